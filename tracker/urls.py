"""URL helpers for every stage: canonical form for deduplication, and the address-safety check.

`canonical_url` is what two links to the same article have in common once
tracking decorations are gone. `check_public_address` is the guard that keeps
URLs coming from the network (article links, redirect targets) away from the
machine's own network: loopback, private ranges, link-local (cloud metadata
services live at 169.254.169.254) and other non-public addresses.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit, urlunsplit

from tracker.errors import BlockedError, FetchError

# Query parameters that identify a campaign or a click, never the document.
_TRACKING_PARAMS = {
    "fbclid", "gclid", "dclid", "gclsrc", "msclkid", "yclid", "twclid", "igshid", "mc_cid",
    "mc_eid", "_hsenc", "_hsmi", "mkt_tok", "ref", "ref_src", "ref_url", "referrer", "cmpid",
    "ncid", "sr_share", "smid", "wt.mc_id", "guccounter", "guce_referrer", "guce_referrer_sig",
    "__twitter_impression", "oly_enc_id", "oly_anon_id", "vero_id", "rss", "taid",
}
_TRACKING_PREFIXES = ("utm_", "pk_", "mtm_", "hsa_", "at_")
_DEFAULT_PORTS = {"http": 80, "https": 443}


def _is_tracking(name: str) -> bool:
    lowered = name.lower()
    return lowered in _TRACKING_PARAMS or lowered.startswith(_TRACKING_PREFIXES)


def canonical_url(url: str) -> str:
    """Return `url` without tracking parameters and fragment, with a lower-case host.

    Scheme and host are lower-cased, the default port and the fragment dropped, and
    query parameters used for tracking (utm_*, fbclid, gclid, mc_cid, ref, ...)
    removed. Remaining parameters keep their order: some sites route on it.
    A string that is not an http(s) URL is returned stripped but otherwise unchanged.
    """
    url = (url or "").strip()
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return url
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname:
        return url
    host = parts.hostname.lower().rstrip(".")
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    netloc = host if port in (None, _DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    if parts.username or parts.password:
        userinfo = parts.username or ""
        if parts.password:
            userinfo += ":" + parts.password
        netloc = f"{userinfo}@{netloc}"
    # Re-quote the path so that %7E and ~ (and other equivalent spellings) compare equal.
    path = quote(unquote(parts.path), safe="/:@!$&'()*+,;=-._~") or "/"
    query_pairs = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
                   if not _is_tracking(k)]
    query = urlencode(query_pairs, doseq=True)
    return urlunsplit((scheme, netloc, path, query, ""))


def blocked_reason(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
    """Why `ip` must not be contacted for a network-supplied URL, or None when it is public."""
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return blocked_reason(ip.ipv4_mapped)
        if ip.sixtofour is not None:
            return blocked_reason(ip.sixtofour)
    if ip.is_loopback:
        return "loopback address"
    if ip.is_link_local:
        return "link-local address (cloud metadata lives here)"
    if ip.is_multicast:
        return "multicast address"
    if ip.is_unspecified:
        return "unspecified address"
    if ip.is_private:
        return "private network address"
    if ip.is_reserved:
        return "reserved address"
    if not ip.is_global:  # shared address space (100.64/10) and other non-routable ranges
        return "non-public address"
    return None


def _host_of(url: str) -> tuple[str, int]:
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise BlockedError(f"invalid URL {url!r}: {exc}", url=url, reason="bad_url") from exc
    if parts.scheme not in _DEFAULT_PORTS or not parts.hostname:
        raise BlockedError(f"only http(s) URLs can be fetched from the network, not {url!r}",
                           url=url, reason="bad_url")
    return parts.hostname, port or _DEFAULT_PORTS[parts.scheme]


def check_ips(url: str, host: str, ips: list[str], allow_private: bool) -> None:
    """Raise BlockedError if any of the addresses `host` resolved to is not public."""
    if allow_private:
        return
    for text in ips:
        ip = ipaddress.ip_address(text.split("%", 1)[0])  # drop an IPv6 zone id
        reason = blocked_reason(ip)
        if reason:
            raise BlockedError(
                f"refused {url}: {host} resolves to {ip}, a {reason}; set "
                "`settings: allow_private_networks: true` in feeds.yaml to allow it",
                url=url, reason="blocked_address")


def check_public_address(url: str, allow_private: bool) -> None:
    """Resolve the host of `url` and raise BlockedError(reason="blocked_address") if any
    address it resolves to is loopback, private, link-local, multicast or reserved.

    IP literals are checked without any lookup, so a refused literal address never
    sees a packet. Does nothing when `allow_private` is true. A host that does not
    resolve raises FetchError(reason="dns").
    """
    if allow_private:
        return
    host, port = _host_of(url)
    try:
        ipaddress.ip_address(host)
        ips = [host]
    except ValueError:
        ips = resolve_host(url, host, port)
    check_ips(url, host, ips, allow_private)


def resolve_host(url: str, host: str, port: int) -> list[str]:
    """All addresses `host` resolves to (blocking lookup), or FetchError(reason="dns")."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise FetchError(f"cannot resolve {host}: {exc}", url=url, reason="dns") from exc
    return [info[4][0] for info in infos]
