using System.Net;
using System.Net.Sockets;

namespace StorageCloud.Common.Net;

/// <summary>
/// How a listener's bind address is reached and written, in one place: a wildcard bind (0.0.0.0 or ::) is reached
/// on loopback, and an IPv6 address goes in brackets in a URL but bare in a ring.
/// </summary>
public static class HostAddress
{
    /// <summary>The address a client on this machine uses for a listener bound to <paramref name="bind"/>.</summary>
    public static IPAddress Reachable(IPAddress bind) =>
        bind.Equals(IPAddress.Any) ? IPAddress.Loopback : bind.Equals(IPAddress.IPv6Any) ? IPAddress.IPv6Loopback : bind;

    /// <summary>The address as a URL's host: IPv6 in brackets.</summary>
    public static string ForUri(IPAddress address) =>
        address.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{address}]" : address.ToString();

    /// <summary>The host of URLs for a listener bound to <paramref name="bind"/> ("127.0.0.1", "[::1]", "10.0.0.5").</summary>
    public static string UriHostFor(IPAddress bind) => ForUri(Reachable(bind));
}
