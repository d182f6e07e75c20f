"""The HTTP Task's pure steps: Parameters -> HttpCall -> HttpRequest, response -> result.

Forbidden headers are AWS's list (call-https-apis: "If you use these headers, the HTTP
Task fails with the States.Runtime error"); the cause is the wording AWS's definition
check gives for them. Other causes are this engine's own.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from asl.errors import StatesError
from integrations.base import TaskRequest, parse_resource
from integrations.connections import (
    ApiKey,
    Basic,
    Connection,
    OAuthClientCredentials,
    Parameters,
)
from integrations.http import (
    HttpCall,
    HttpInvoke,
    build_request,
    parse_call,
    status_error,
    task_result,
)

ARN = "arn:aws:events:us-east-1:123456789012:connection/api/0a1b2c3d"
KEY = Connection("api", ApiKey("x-api-key", "k"))
UA = ("User-Agent", "Amazon|StepFunctions|HttpInvoke|eu-west-1")
RANGE = ("Range", "bytes=0-262144")


def params(**fields: Any) -> dict[str, Any]:
    return {
        "ApiEndpoint": "https://api.example.com/v1/items",
        "Method": "GET",
        "Authentication": {"ConnectionArn": ARN},
        **fields,
    }


def runtime_error(parameters: Any) -> str:
    with pytest.raises(StatesError) as caught:
        parse_call(parameters)
    assert caught.value.error == "States.Runtime"
    return caught.value.cause or ""


def request_for(connection: Connection = KEY, bearer: str | None = None, **fields: Any) -> Any:
    return build_request(parse_call(params(**fields)), connection, "eu-west-1", bearer)


# ---------------------------------------------------------------------------------------
# parse_call


def test_a_minimal_call() -> None:
    call = parse_call(params())
    assert call.method == "GET"
    assert str(call.endpoint) == "https://api.example.com/v1/items"
    assert call.connection_arn == ARN
    assert (call.headers, call.query, call.has_body) == ((), None, False)
    assert (call.url_encoded, call.array_format) == (False, "INDICES")


def test_invocation_config_names_the_connection_of_a_private_api() -> None:
    call = parse_call(
        {"ApiEndpoint": "https://x", "Method": "GET", "InvocationConfig": {"ConnectionArn": ARN}}
    )
    assert call.connection_arn == ARN


def test_a_null_request_body_is_a_body() -> None:
    assert parse_call(params(RequestBody=None)).has_body


@pytest.mark.parametrize(
    ("fields", "cause"),
    [
        ({"Method": "get"}, "The field 'Method' must be one of GET, POST, PUT, DELETE, PATCH, "
         'OPTIONS, HEAD, got "get"'),
        ({"Method": None}, "The field 'Method' must be one of GET, POST, PUT, DELETE, PATCH, "
         "OPTIONS, HEAD, got null"),
        ({"ApiEndpoint": 7}, "The field 'ApiEndpoint' must be a text, got 7"),
        ({"ApiEndpoint": "ftp://x/y"}, "The field 'ApiEndpoint' is not an HTTPS URL: "
         '"ftp://x/y"'),
        ({"ApiEndpoint": "/relative"}, "The field 'ApiEndpoint' is not an HTTPS URL: "
         '"/relative"'),
        ({"Authentication": {}}, "The HTTP Task needs a connection: "
         "'Authentication.ConnectionArn' must be a text"),
        ({"Headers": ["a"]}, 'The field \'Headers\' must be an object, got ["a"]'),
        ({"Headers": {"X-A": {"b": 1}}}, "The value of the header 'X-A' must be a text, "
         'got {"b":1}'),
        ({"Headers": {"X-A": "a\r\nInjected: 1"}}, "The value of the header 'X-A' contains a "
         "line break"),
        ({"Headers": {"Bad Name": "v"}}, "The 'Headers' field has an invalid header name: "
         '"Bad Name"'),
        ({"QueryParameters": "a=1"}, "The field 'QueryParameters' must be an object, "
         'got "a=1"'),
        ({"Transform": "URL_ENCODED"}, "The field 'Transform' must be an object, "
         'got "URL_ENCODED"'),
        ({"Transform": {"RequestBodyEncoding": "JSON"}}, "The field "
         "'Transform.RequestBodyEncoding' must be NONE or URL_ENCODED, got \"JSON\""),
        ({"Transform": {"RequestEncodingOptions": {"ArrayFormat": "SPACES"}}}, "The field "
         "'Transform.RequestEncodingOptions.ArrayFormat' must be one of INDICES, REPEAT, "
         'COMMAS, BRACKETS, got {"ArrayFormat":"SPACES"}'),
    ],
)  # fmt: skip
def test_wrong_fields(fields: dict[str, Any], cause: str) -> None:
    assert runtime_error(params(**fields)) == cause


def test_parameters_must_be_an_object() -> None:
    assert runtime_error([1]) == "The Parameters of an HTTP Task must be an object, got [1]"


def test_a_missing_connection() -> None:
    parameters = params()
    del parameters["Authentication"]
    assert runtime_error(parameters) == (
        "The HTTP Task needs a connection: 'Authentication.ConnectionArn' must be a text"
    )


FORBIDDEN = [
    "A-IM", "Accept-Charset", "Accept-Datetime", "Accept-Encoding", "Authorization",
    "Cache-Control", "Connection", "Content-Encoding", "Content-MD5", "Date", "Expect",
    "Forwarded", "From", "Host", "HTTP2-Settings", "If-Match", "If-Modified-Since",
    "If-None-Match", "If-Range", "If-Unmodified-Since", "Max-Forwards", "Origin", "Pragma",
    "Proxy-Authorization", "Referer", "Server", "TE", "Trailer", "Transfer-Encoding",
    "Upgrade", "Via", "Warning", "X-Forwarded-For", "x-forwarded-proto", "X-Amz-Date",
    "x-amz-security-token", "X-Amzn-Trace-Id",
]  # fmt: skip


@pytest.mark.parametrize("name", FORBIDDEN)
def test_forbidden_header(name: str) -> None:
    cause = runtime_error(params(Headers={"X-Fine": "1", name: "v"}))
    assert cause == f"The 'Headers' field contains unsupported values: [{name.lower()}]"


@pytest.mark.parametrize("name", ["X-Amazon", "X-Amzx", "Accept", "Content-Type", "Cookie"])
def test_allowed_header(name: str) -> None:
    assert parse_call(params(Headers={name: "v"})).headers == ((name, "v"),)


def test_header_values() -> None:
    call = parse_call(params(Headers={"A": 1, "B": True, "C": None, "D": ["x", 2.5]}))
    assert call.headers == (("A", "1"), ("B", "true"), ("C", ""), ("D", "x"), ("D", "2.5"))


# ---------------------------------------------------------------------------------------
# build_request


def test_get_request() -> None:
    request = request_for()
    assert (request.method, request.url, request.body) == (
        "GET",
        "https://api.example.com/v1/items",
        None,
    )
    assert request.headers == (("x-api-key", "k"), UA, RANGE)


def test_json_body_and_default_content_type() -> None:
    request = request_for(Method="POST", RequestBody={"a": [1, "é"]})
    assert request.body == '{"a":[1,"é"]}'.encode()
    assert ("Content-Type", "application/json; charset=UTF-8") in request.headers


@pytest.mark.parametrize(
    ("body", "sent"), [(None, b"null"), (3, b"3"), ("raw text", b"raw text"), ([], b"[]")]
)
def test_other_bodies(body: Any, sent: bytes) -> None:
    assert request_for(Method="POST", RequestBody=body).body == sent


def test_own_content_type_is_kept() -> None:
    request = request_for(Method="POST", RequestBody="<a/>", Headers={"content-type": "text/xml"})
    assert [v for n, v in request.headers if n.lower() == "content-type"] == ["text/xml"]


def test_client_headers_are_the_clients() -> None:
    headers = {"Content-Length": "999", "User-Agent": "me", "Range": "bytes=0-1", "X-A": "a"}
    request = request_for(Headers=headers)
    assert request.headers == (("X-A", "a"), ("x-api-key", "k"), UA, RANGE)


def test_url_encoded_body() -> None:
    transform = {"RequestBodyEncoding": "URL_ENCODED"}
    request = request_for(Method="POST", RequestBody={"a": ["x", "y"]}, Transform=transform)
    assert request.body == b"a[0]=x&a[1]=y"
    assert ("Content-Type", "application/x-www-form-urlencoded") in request.headers


def test_url_encoding_replaces_the_content_type() -> None:
    request = request_for(
        Method="POST",
        RequestBody="a=1",
        Headers={"Content-Type": "text/plain"},
        Transform={"RequestBodyEncoding": "URL_ENCODED"},
    )
    assert request.body == b"a=1"
    assert [v for n, v in request.headers if n.lower() == "content-type"] == [
        "application/x-www-form-urlencoded"
    ]


def test_url_encoding_needs_an_object_or_text() -> None:
    with pytest.raises(StatesError) as caught:
        request_for(RequestBody=[1], Transform={"RequestBodyEncoding": "URL_ENCODED"})
    assert (caught.value.error, caught.value.cause) == (
        "States.Runtime",
        "A URL_ENCODED 'RequestBody' must be an object or a text, got [1]",
    )


def test_query_parameters() -> None:
    request = request_for(
        ApiEndpoint="https://h.example/p?x=1#frag",
        QueryParameters={"s": "a b", "l": ["1", "2"]},
        Transform={"RequestEncodingOptions": {"ArrayFormat": "REPEAT"}},
    )
    assert request.url == "https://h.example/p?x=1&s=a%20b&l=1&l=2"


def test_endpoint_is_percent_encoded() -> None:
    assert request_for(ApiEndpoint="https://h.example/a b/é").url == (
        "https://h.example/a%20b/%C3%A9"
    )


EXTRAS = Parameters(
    headers=(("X-Tenant", "acme"),),
    query=(("page", "9"), ("region", "eu")),
    body=(("kind", "connection"),),
)


def test_connection_parameters_win() -> None:
    connection = Connection("api", Basic("u", "p"), EXTRAS)
    request = request_for(
        connection,
        Method="POST",
        Headers={"x-tenant": "mine"},
        QueryParameters={"page": 1, "q": "z"},
        RequestBody={"kind": "task", "id": 1},
    )
    assert json.loads(request.body or b"") == {"kind": "connection", "id": 1}
    assert request.url.endswith("/items?page=9&q=z&region=eu")
    assert ("X-Tenant", "acme") in request.headers
    assert ("x-tenant", "mine") not in request.headers
    assert ("Authorization", "Basic dTpw") in request.headers


def test_connection_body_parameters_make_a_body() -> None:
    request = request_for(Connection("api", ApiKey("k", "v"), EXTRAS))
    assert request.body == b'{"kind":"connection"}'


def test_connection_body_parameters_leave_a_text_body() -> None:
    request = request_for(Connection("api", ApiKey("k", "v"), EXTRAS), RequestBody="as is")
    assert request.body == b"as is"


def test_oauth_bearer() -> None:
    oauth = Connection("api", OAuthClientCredentials("https://t", "id", "secret"))
    assert ("Authorization", "Bearer tok") in request_for(oauth, bearer="tok").headers


def test_api_key_header_replaces_the_tasks() -> None:
    request = request_for(Headers={"X-API-KEY": "mine"})
    assert [v for n, v in request.headers if n.lower() == "x-api-key"] == ["k"]


JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=12,
)
FIELDS = st.fixed_dictionaries(
    {},
    optional={
        "ApiEndpoint": st.sampled_from(["https://a.example/x", "http://127.0.0.1:1/", "x"]) | JSON,
        "Method": st.sampled_from(["GET", "POST", "HEAD"]) | JSON,
        "Authentication": st.just({"ConnectionArn": ARN}) | JSON,
        "Headers": st.dictionaries(st.sampled_from(["X-A", "Host", "a b", "Content-Type"]), JSON)
        | JSON,
        "QueryParameters": st.dictionaries(st.text(), JSON) | JSON,
        "RequestBody": JSON,
        "Transform": st.fixed_dictionaries(
            {},
            optional={
                "RequestBodyEncoding": st.sampled_from(["NONE", "URL_ENCODED"]) | JSON,
                "RequestEncodingOptions": st.fixed_dictionaries(
                    {}, optional={"ArrayFormat": st.sampled_from(["COMMAS", "REPEAT"]) | JSON}
                )
                | JSON,
            },
        )
        | JSON,
    },
)


@settings(max_examples=300)
@given(FIELDS | JSON)
def test_any_parameters_give_a_request_or_a_states_error(parameters: Any) -> None:
    try:
        call = parse_call(parameters)
        request = build_request(call, Connection("api", ApiKey("k", "v"), EXTRAS), "r")
    except StatesError as error:
        assert error.error == "States.Runtime"
        return
    assert isinstance(call, HttpCall)
    assert request.url.isascii()
    assert request.body is None or isinstance(request.body, bytes)


# ---------------------------------------------------------------------------------------
# task_result / status_error


JSON_TYPE = ("Content-Type", "application/json")


def test_json_result() -> None:
    result = task_result(200, "OK", [JSON_TYPE, ("X-A", "1")], b'{"a": 1}')
    assert result == {
        "Headers": {"Content-Type": ["application/json"], "X-A": ["1"]},
        "ResponseBody": {"a": 1},
        "StatusCode": 200,
        "StatusText": "OK",
    }
    assert list(result) == ["Headers", "ResponseBody", "StatusCode", "StatusText"]


@pytest.mark.parametrize(
    ("content_type", "body", "parsed"),
    [
        ("application/problem+json", b'{"t": 1}', {"t": 1}),
        ("Application/JSON; charset=utf-8", b"[1, 2]", [1, 2]),
        ("application/json", b"not json", "not json"),
        ("application/json", b"NaN", "NaN"),
        ("application/json", b"", ""),
        ("text/plain", b'{"a": 1}', '{"a": 1}'),
        ("text/plain; charset=iso-8859-1", "café".encode("latin-1"), "café"),
        ("text/plain; charset=no-such", "café".encode(), "café"),
        ("application/xml", b"<a/>", "<a/>"),
        (None, b"anything", "anything"),
    ],
)
def test_response_bodies(content_type: str | None, body: bytes, parsed: Any) -> None:
    headers = [] if content_type is None else [("content-type", content_type)]
    assert task_result(200, "OK", headers, body)["ResponseBody"] == parsed


def test_repeated_headers_gather_under_the_first_spelling() -> None:
    headers = [("Set-Cookie", "a=1"), ("set-cookie", "b=2"), ("Via", "x")]
    assert task_result(204, "No Content", headers, b"")["Headers"] == {
        "Set-Cookie": ["a=1", "b=2"],
        "Via": ["x"],
    }


@pytest.mark.parametrize(("status", "text"), [(418, "I'm a Teapot"), (299, ""), (503, "")])
def test_missing_reason_phrases(status: int, text: str) -> None:
    expected = text or ("Service Unavailable" if status == 503 else "")
    assert task_result(status, None, [], b"")["StatusText"] == expected


@pytest.mark.parametrize(
    "content_type",
    ["image/png", "audio/mpeg", "video/mp4", "font/woff2", "application/octet-stream"],
)
def test_media_responses_are_refused(content_type: str) -> None:
    with pytest.raises(StatesError) as caught:
        task_result(200, "OK", [("Content-Type", content_type)], b"\x00\x01")
    assert (caught.value.error, caught.value.cause) == (
        "States.Runtime",
        f"The HTTP response has an unsupported content type: '{content_type}'",
    )


def test_binary_text_is_refused() -> None:
    with pytest.raises(StatesError) as caught:
        task_result(200, "OK", [("Content-Type", "text/plain")], b"\xff\xfe\x00")
    assert caught.value.cause == "The HTTP response body is binary, which is not supported"


def test_status_error() -> None:
    result = task_result(404, "Not Found", [JSON_TYPE], '{"m": "é"}'.encode())
    error = status_error(result)
    assert error.error == "States.Http.StatusCode.404"
    assert error.cause == (
        '{"Headers":{"Content-Type":["application/json"]},"ResponseBody":{"m":"é"},'
        '"StatusCode":404,"StatusText":"Not Found"}'
    )


# ---------------------------------------------------------------------------------------
# HttpInvoke before any I/O


async def test_plain_http_for_any_host_when_allowed() -> None:
    invoker = HttpInvoke({}, allow_http=True)
    request = TaskRequest(
        parse_resource("arn:aws:states:::http:invoke"),
        params(ApiEndpoint="http://example.invalid/x"),
        "S",
        "arn:exec",
        "arn:sm",
        "us-east-1",
        "123456789012",
    )
    with pytest.raises(StatesError) as caught:
        await invoker.invoke(request)
    assert caught.value.error == "Events.ConnectionResource.ResourceNotFound"
