from http import HTTPStatus
from typing import Any
from urllib.parse import quote
from uuid import UUID

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.get_round_report_locale_type_0 import GetRoundReportLocaleType0
from ...models.problem import Problem
from ...types import UNSET, Response, Unset


def _get_kwargs(
    round_id: UUID,
    *,
    locale: GetRoundReportLocaleType0 | None | Unset = UNSET,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    json_locale: None | str | Unset
    if isinstance(locale, Unset):
        json_locale = UNSET
    elif isinstance(locale, GetRoundReportLocaleType0):
        json_locale = locale.value
    else:
        json_locale = locale
    params["locale"] = json_locale

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/api/v1/rounds/{round_id}/report".format(
            round_id=quote(str(round_id), safe=""),
        ),
        "params": params,
    }

    return _kwargs


def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Problem | str | None:
    if response.status_code == 200:
        response_200 = response.text
        return response_200

    if response.status_code == 401:
        response_401 = Problem.from_dict(response.json())

        return response_401

    if response.status_code == 403:
        response_403 = Problem.from_dict(response.json())

        return response_403

    if response.status_code == 404:
        response_404 = Problem.from_dict(response.json())

        return response_404

    if response.status_code == 409:
        response_409 = Problem.from_dict(response.json())

        return response_409

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


def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[Problem | str]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    round_id: UUID,
    *,
    client: AuthenticatedClient,
    locale: GetRoundReportLocaleType0 | None | Unset = UNSET,
) -> Response[Problem | str]:
    """Get round report

     The decision report of a closed round, self-contained and fit to print (admin).

    Args:
        round_id (UUID):
        locale (GetRoundReportLocaleType0 | None | Unset): The report's language (default: the
            viewer's locale)

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | str]
    """

    kwargs = _get_kwargs(
        round_id=round_id,
        locale=locale,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    round_id: UUID,
    *,
    client: AuthenticatedClient,
    locale: GetRoundReportLocaleType0 | None | Unset = UNSET,
) -> Problem | str | None:
    """Get round report

     The decision report of a closed round, self-contained and fit to print (admin).

    Args:
        round_id (UUID):
        locale (GetRoundReportLocaleType0 | None | Unset): The report's language (default: the
            viewer's locale)

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | str
    """

    return sync_detailed(
        round_id=round_id,
        client=client,
        locale=locale,
    ).parsed


async def asyncio_detailed(
    round_id: UUID,
    *,
    client: AuthenticatedClient,
    locale: GetRoundReportLocaleType0 | None | Unset = UNSET,
) -> Response[Problem | str]:
    """Get round report

     The decision report of a closed round, self-contained and fit to print (admin).

    Args:
        round_id (UUID):
        locale (GetRoundReportLocaleType0 | None | Unset): The report's language (default: the
            viewer's locale)

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | str]
    """

    kwargs = _get_kwargs(
        round_id=round_id,
        locale=locale,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    round_id: UUID,
    *,
    client: AuthenticatedClient,
    locale: GetRoundReportLocaleType0 | None | Unset = UNSET,
) -> Problem | str | None:
    """Get round report

     The decision report of a closed round, self-contained and fit to print (admin).

    Args:
        round_id (UUID):
        locale (GetRoundReportLocaleType0 | None | Unset): The report's language (default: the
            viewer's locale)

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | str
    """

    return (
        await asyncio_detailed(
            round_id=round_id,
            client=client,
            locale=locale,
        )
    ).parsed
