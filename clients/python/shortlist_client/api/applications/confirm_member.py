from http import HTTPStatus
from typing import Any
from urllib.parse import quote
from uuid import UUID

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.application_public import ApplicationPublic
from ...models.application_sealed import ApplicationSealed
from ...models.problem import Problem
from ...types import UNSET, Response, Unset


def _get_kwargs(
    application_id: UUID,
    organization_id: UUID,
    *,
    idempotency_key: None | str | Unset = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    if not isinstance(idempotency_key, Unset):
        headers["Idempotency-Key"] = idempotency_key

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/api/v1/applications/{application_id}/members/{organization_id}/confirm".format(
            application_id=quote(str(application_id), safe=""),
            organization_id=quote(str(organization_id), safe=""),
        ),
    }

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> ApplicationPublic | ApplicationSealed | Problem | None:
    if response.status_code == 200:

        def _parse_response_200(data: object) -> ApplicationPublic | ApplicationSealed:
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                response_200_type_0 = ApplicationPublic.from_dict(data)

                return response_200_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            if not isinstance(data, dict):
                raise TypeError()
            response_200_type_1 = ApplicationSealed.from_dict(data)

            return response_200_type_1

        response_200 = _parse_response_200(response.json())

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

    if response.status_code == 413:
        response_413 = Problem.from_dict(response.json())

        return response_413

    if response.status_code == 422:
        response_422 = Problem.from_dict(response.json())

        return response_422

    if response.status_code == 429:
        response_429 = Problem.from_dict(response.json())

        return response_429

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
) -> Response[ApplicationPublic | ApplicationSealed | Problem]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    application_id: UUID,
    organization_id: UUID,
    *,
    client: AuthenticatedClient,
    idempotency_key: None | str | Unset = UNSET,
) -> Response[ApplicationPublic | ApplicationSealed | Problem]:
    """Confirm member

     Confirm a member organization's participation (an owner of that organization).

    Args:
        application_id (UUID):
        organization_id (UUID):
        idempotency_key (None | str | Unset): A unique key (1 to 255 visible ASCII characters)
            that makes a retry safe

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ApplicationPublic | ApplicationSealed | Problem]
    """

    kwargs = _get_kwargs(
        application_id=application_id,
        organization_id=organization_id,
        idempotency_key=idempotency_key,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    application_id: UUID,
    organization_id: UUID,
    *,
    client: AuthenticatedClient,
    idempotency_key: None | str | Unset = UNSET,
) -> ApplicationPublic | ApplicationSealed | Problem | None:
    """Confirm member

     Confirm a member organization's participation (an owner of that organization).

    Args:
        application_id (UUID):
        organization_id (UUID):
        idempotency_key (None | str | Unset): A unique key (1 to 255 visible ASCII characters)
            that makes a retry safe

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ApplicationPublic | ApplicationSealed | Problem
    """

    return sync_detailed(
        application_id=application_id,
        organization_id=organization_id,
        client=client,
        idempotency_key=idempotency_key,
    ).parsed


async def asyncio_detailed(
    application_id: UUID,
    organization_id: UUID,
    *,
    client: AuthenticatedClient,
    idempotency_key: None | str | Unset = UNSET,
) -> Response[ApplicationPublic | ApplicationSealed | Problem]:
    """Confirm member

     Confirm a member organization's participation (an owner of that organization).

    Args:
        application_id (UUID):
        organization_id (UUID):
        idempotency_key (None | str | Unset): A unique key (1 to 255 visible ASCII characters)
            that makes a retry safe

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ApplicationPublic | ApplicationSealed | Problem]
    """

    kwargs = _get_kwargs(
        application_id=application_id,
        organization_id=organization_id,
        idempotency_key=idempotency_key,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    application_id: UUID,
    organization_id: UUID,
    *,
    client: AuthenticatedClient,
    idempotency_key: None | str | Unset = UNSET,
) -> ApplicationPublic | ApplicationSealed | Problem | None:
    """Confirm member

     Confirm a member organization's participation (an owner of that organization).

    Args:
        application_id (UUID):
        organization_id (UUID):
        idempotency_key (None | str | Unset): A unique key (1 to 255 visible ASCII characters)
            that makes a retry safe

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ApplicationPublic | ApplicationSealed | Problem
    """

    return (
        await asyncio_detailed(
            application_id=application_id,
            organization_id=organization_id,
            client=client,
            idempotency_key=idempotency_key,
        )
    ).parsed
