"""Outbound webhooks without server-side request forgery (SSRF).

Any user may set ``webhook_url``, and the server POSTs there, so a URL must not reach the server's own
network: every address its host resolves to must be public (not loopback, private, link-local, shared,
multicast, reserved or unspecified; IPv4-mapped IPv6 is judged as the IPv4 address). The check runs when
the URL is set (422 naming ``webhook_url``) and again at each delivery; a delivery then connects to the
address it checked (the URL's host pinned to it, ``Host`` and TLS SNI kept), so a DNS answer that changes
in between (DNS rebinding) cannot redirect it. Redirects are never followed.

An admin opens exceptions with the ``webhook_allowlist`` setting: comma-separated host names, IP
addresses or networks (CIDR) that webhooks may reach although they are not public, e.g.
``QUANTOPS_WEBHOOK_ALLOWLIST=127.0.0.1,hooks.internal,10.20.0.0/16``.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import httpx

from quantops.services.errors import ValidationFailed

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
# host, port → the addresses it resolves to (as text).
Resolver = Callable[[str, int], Awaitable[list[str]]]

FIELD = "webhook_url"


class WebhookRefused(ValidationFailed):
    """The URL's host is (or resolves to) an address webhooks may not reach."""

    def __init__(self, message: str, rule: str = "forbidden_address") -> None:
        super().__init__(FIELD, rule, f"{FIELD}: {message}")


async def resolve_host(host: str, port: int) -> list[str]:
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def _parse_ip(text: str) -> IPAddress | None:
    try:
        ip = ipaddress.ip_address(text.split("%", 1)[0])  # drop an IPv6 zone (fe80::1%eth0)
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


def is_public(ip: IPAddress) -> bool:
    return ip.is_global and not (ip.is_multicast or ip.is_reserved or ip.is_unspecified)


@dataclass(frozen=True)
class PinnedTarget:
    """Where a delivery connects: the checked address, with the original host for Host/SNI."""

    url: httpx.URL
    address: IPAddress
    headers: dict[str, str] = field(default_factory=dict)
    extensions: dict[str, Any] = field(default_factory=dict)


class WebhookPolicy:
    def __init__(self, allowlist: str | Iterable[str] = "", resolver: Resolver = resolve_host) -> None:
        entries = allowlist.split(",") if isinstance(allowlist, str) else list(allowlist)
        self.allowed_names: frozenset[str] = frozenset()
        self.allowed_networks: tuple[IPNetwork, ...] = ()
        names: set[str] = set()
        networks: list[IPNetwork] = []
        for entry in (e.strip().lower() for e in entries):
            if not entry:
                continue
            try:
                networks.append(ipaddress.ip_network(entry.strip("[]"), strict=False))
            except ValueError:
                names.add(entry.rstrip("."))
        self.allowed_names = frozenset(names)
        self.allowed_networks = tuple(networks)
        self._resolve = resolver

    def _allowed(self, host: str, ip: IPAddress) -> bool:
        if is_public(ip):
            return True
        if host.lower().rstrip(".") in self.allowed_names:
            return True
        return any(ip.version == net.version and ip in net for net in self.allowed_networks)

    async def addresses(self, url: str | httpx.URL) -> tuple[httpx.URL, list[IPAddress]]:
        """The URL and every address of its host, each checked; raises `WebhookRefused`."""
        try:
            parsed = httpx.URL(url) if isinstance(url, str) else url
        except httpx.InvalidURL as exc:
            raise WebhookRefused(f"not a valid URL ({exc})", "invalid_url") from exc
        if parsed.scheme not in ("http", "https") or not parsed.host:
            raise WebhookRefused("must be an http(s) URL with a host", "invalid_url")
        host = parsed.host
        port = parsed.port or (443 if parsed.scheme == "https" else 80)
        literal = _parse_ip(host)
        if literal is not None:
            found = [literal]
        else:
            try:
                resolved = await self._resolve(host, port)
            except (OSError, UnicodeError) as exc:
                raise WebhookRefused(f"host {host!r} does not resolve", "unresolvable_host") from exc
            found = [ip for ip in (_parse_ip(a) for a in resolved) if ip is not None]
            if not found:
                raise WebhookRefused(f"host {host!r} does not resolve", "unresolvable_host")
        for ip in found:
            if not self._allowed(host, ip):
                raise WebhookRefused(
                    f"{host!r} resolves to {ip}, a non-public address (loopback, private, link-local or "
                    "reserved); an admin can allow it with the webhook_allowlist setting"
                )
        return parsed, found

    async def check(self, url: str) -> None:
        """Raise `WebhookRefused` (a 422 naming webhook_url) unless every address may be reached."""
        await self.addresses(url)

    async def pin(self, url: str) -> list[PinnedTarget]:
        """Check now; one target per checked address, to connect to in order (the address checked, so a
        DNS answer that changes before the connection — rebinding — cannot redirect the delivery)."""
        parsed, found = await self.addresses(url)
        if _parse_ip(parsed.host) is not None:
            return [PinnedTarget(parsed, found[0])]
        host_header = parsed.netloc.decode("ascii")
        extensions = {"sni_hostname": parsed.host} if parsed.scheme == "https" else {}
        headers = {"Host": host_header}
        return [PinnedTarget(parsed.copy_with(host=str(ip)), ip, headers, extensions) for ip in found]
