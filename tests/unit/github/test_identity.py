"""Who the token writes as: a PAT's user, the job token's bot, an app's bot, or nobody."""

from __future__ import annotations

import json

import pytest

from benchaction.github.client import GitHubClient, GitHubError, graphql_url_for
from benchaction.github.identity import JOB_TOKEN_LOGIN, VIEWER_QUERY, token_login
from tests.support.github_payloads import (
    GRAPHQL,
    USER,
    answer_as_job_token,
    answer_as_user,
)
from tests.support.standin import Reply, StandIn


def test_a_personal_token_is_its_user(github: StandIn, client: GitHubClient) -> None:
    answer_as_user(github, "octocat")
    assert token_login(client) == "octocat"
    (asked,) = github.requests
    assert asked.operation == "users/get-authenticated"
    assert asked.headers["authorization"] == "Bearer ghs_token"


def test_the_job_token_is_the_actions_bot(github: StandIn, client: GitHubClient) -> None:
    answer_as_job_token(github)
    assert token_login(client) == JOB_TOKEN_LOGIN == "github-actions[bot]"
    (viewer,) = github.calls(GRAPHQL)
    assert json.loads(viewer.body) == {"query": VIEWER_QUERY, "variables": {}}
    assert viewer.headers["authorization"] == "Bearer ghs_token"


def test_an_app_token_is_its_apps_bot(github: StandIn, client: GitHubClient) -> None:
    answer_as_job_token(github, bot="bench-app[bot]")
    assert token_login(client) == "bench-app[bot]"


@pytest.mark.parametrize(
    "answer",
    [
        Reply(json={"errors": [{"message": "Resource not accessible by integration"}]}),
        Reply(404, {"message": "Not Found"}),  # a server without GraphQL
        Reply(json={"data": {"viewer": None}}),
    ],
)
def test_without_graphql_an_installation_token_is_taken_for_the_job_token(
    github: StandIn, client: GitHubClient, answer: Reply
) -> None:
    answer_as_job_token(github)
    github.route("POST", GRAPHQL, answer, external=True)
    assert token_login(client) == JOB_TOKEN_LOGIN


def test_no_valid_token_has_no_login(github: StandIn, client: GitHubClient) -> None:
    github.route("GET", USER, Reply(401, {"message": "Bad credentials"}))
    assert token_login(client) is None
    assert github.calls(GRAPHQL) == []


def test_a_server_error_is_raised(github: StandIn, client: GitHubClient) -> None:
    github.route("GET", USER, Reply(502, {"message": "Server Error"}))
    with pytest.raises(GitHubError, match=r"GET /user failed \(HTTP 502\)"):
        token_login(client)


@pytest.mark.parametrize(
    ("api_url", "graphql_url"),
    [
        ("https://api.github.com", "https://api.github.com/graphql"),
        ("https://ghe.example.com/api/v3/", "https://ghe.example.com/api/graphql"),
    ],
)
def test_the_graphql_endpoint_sits_next_to_the_rest_base(api_url: str, graphql_url: str) -> None:
    assert graphql_url_for(api_url) == graphql_url
    assert GitHubClient(api_url, None).graphql_url == graphql_url
