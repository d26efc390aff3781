from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.page_audit_event_public import PageAuditEventPublic
from ...models.problem import Problem
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    after_seq: int | None | Unset = UNSET,
    object_type: None | str | Unset = UNSET,
    object_id: None | str | Unset = UNSET,
    action: None | str | Unset = UNSET,
    limit: int | Unset = 50,
    cursor: None | str | Unset = UNSET,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    json_after_seq: int | None | Unset
    if isinstance(after_seq, Unset):
        json_after_seq = UNSET
    else:
        json_after_seq = after_seq
    params["after_seq"] = json_after_seq

    json_object_type: None | str | Unset
    if isinstance(object_type, Unset):
        json_object_type = UNSET
    else:
        json_object_type = object_type
    params["object_type"] = json_object_type

    json_object_id: None | str | Unset
    if isinstance(object_id, Unset):
        json_object_id = UNSET
    else:
        json_object_id = object_id
    params["object_id"] = json_object_id

    json_action: None | str | Unset
    if isinstance(action, Unset):
        json_action = UNSET
    else:
        json_action = action
    params["action"] = json_action

    params["limit"] = limit

    json_cursor: None | str | Unset
    if isinstance(cursor, Unset):
        json_cursor = UNSET
    else:
        json_cursor = cursor
    params["cursor"] = json_cursor

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/api/v1/audit",
        "params": params,
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> PageAuditEventPublic | Problem | None:
    if response.status_code == 200:
        response_200 = PageAuditEventPublic.from_dict(response.json())

        return response_200

    if response.status_code == 401:
        response_401 = Problem.from_dict(response.json())

        return response_401

    if response.status_code == 403:
        response_403 = Problem.from_dict(response.json())

        return response_403

    if response.status_code == 422:
        response_422 = Problem.from_dict(response.json())

        return response_422

    if response.status_code == 500:
        response_500 = Problem.from_dict(response.json())

        return response_500

    if response.status_code == 503:
        response_503 = Problem.from_dict(response.json())

        return response_503

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[PageAuditEventPublic | Problem]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    after_seq: int | None | Unset = UNSET,
    object_type: None | str | Unset = UNSET,
    object_id: None | str | Unset = UNSET,
    action: None | str | Unset = UNSET,
    limit: int | Unset = 50,
    cursor: None | str | Unset = UNSET,
) -> Response[PageAuditEventPublic | Problem]:
    """List audit events

     Audit events in chain order, optionally filtered by object or action (admin); events
    about a sealed bid carry `{"sealed": true, "application_id"}` as their data.

    Args:
        after_seq (int | None | Unset): Only events after this `seq` (to resume reading)
        object_type (None | str | Unset):
        object_id (None | str | Unset):
        action (None | str | Unset):
        limit (int | Unset): Items per page (1 to 100) Default: 50.
        cursor (None | str | Unset): The `next_cursor` of the previous page

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[PageAuditEventPublic | Problem]
    """

    kwargs = _get_kwargs(
        after_seq=after_seq,
        object_type=object_type,
        object_id=object_id,
        action=action,
        limit=limit,
        cursor=cursor,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient,
    after_seq: int | None | Unset = UNSET,
    object_type: None | str | Unset = UNSET,
    object_id: None | str | Unset = UNSET,
    action: None | str | Unset = UNSET,
    limit: int | Unset = 50,
    cursor: None | str | Unset = UNSET,
) -> PageAuditEventPublic | Problem | None:
    """List audit events

     Audit events in chain order, optionally filtered by object or action (admin); events
    about a sealed bid carry `{"sealed": true, "application_id"}` as their data.

    Args:
        after_seq (int | None | Unset): Only events after this `seq` (to resume reading)
        object_type (None | str | Unset):
        object_id (None | str | Unset):
        action (None | str | Unset):
        limit (int | Unset): Items per page (1 to 100) Default: 50.
        cursor (None | str | Unset): The `next_cursor` of the previous page

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        PageAuditEventPublic | Problem
    """

    return sync_detailed(
        client=client,
        after_seq=after_seq,
        object_type=object_type,
        object_id=object_id,
        action=action,
        limit=limit,
        cursor=cursor,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    after_seq: int | None | Unset = UNSET,
    object_type: None | str | Unset = UNSET,
    object_id: None | str | Unset = UNSET,
    action: None | str | Unset = UNSET,
    limit: int | Unset = 50,
    cursor: None | str | Unset = UNSET,
) -> Response[PageAuditEventPublic | Problem]:
    """List audit events

     Audit events in chain order, optionally filtered by object or action (admin); events
    about a sealed bid carry `{"sealed": true, "application_id"}` as their data.

    Args:
        after_seq (int | None | Unset): Only events after this `seq` (to resume reading)
        object_type (None | str | Unset):
        object_id (None | str | Unset):
        action (None | str | Unset):
        limit (int | Unset): Items per page (1 to 100) Default: 50.
        cursor (None | str | Unset): The `next_cursor` of the previous page

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[PageAuditEventPublic | Problem]
    """

    kwargs = _get_kwargs(
        after_seq=after_seq,
        object_type=object_type,
        object_id=object_id,
        action=action,
        limit=limit,
        cursor=cursor,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient,
    after_seq: int | None | Unset = UNSET,
    object_type: None | str | Unset = UNSET,
    object_id: None | str | Unset = UNSET,
    action: None | str | Unset = UNSET,
    limit: int | Unset = 50,
    cursor: None | str | Unset = UNSET,
) -> PageAuditEventPublic | Problem | None:
    """List audit events

     Audit events in chain order, optionally filtered by object or action (admin); events
    about a sealed bid carry `{"sealed": true, "application_id"}` as their data.

    Args:
        after_seq (int | None | Unset): Only events after this `seq` (to resume reading)
        object_type (None | str | Unset):
        object_id (None | str | Unset):
        action (None | str | Unset):
        limit (int | Unset): Items per page (1 to 100) Default: 50.
        cursor (None | str | Unset): The `next_cursor` of the previous page

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        PageAuditEventPublic | Problem
    """

    return (
        await asyncio_detailed(
            client=client,
            after_seq=after_seq,
            object_type=object_type,
            object_id=object_id,
            action=action,
            limit=limit,
            cursor=cursor,
        )
    ).parsed
