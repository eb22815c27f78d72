using System.Net;
using System.Net.Sockets;

namespace StorageCloud.Image.Images;

/// <summary>A web-download URL refused before anything is fetched (or a redirect refused on the way).</summary>
public sealed class WebDownloadRefusedException(string message) : Exception(message);

/// <summary>
/// The web-download import's fetcher. The appliance fetches a URL on a user's behalf, so every address it connects
/// to is checked first: http or https only, no credentials in the URL, ports 80 and 443, and every address the host
/// resolves to public (not loopback, private, link-local, carrier-grade NAT, multicast, documentation or ULA ranges),
/// unless the host is one the operator allowed (a local mirror). The connection goes to the address that was checked
/// (no second DNS answer can swap it), and redirects are followed by hand, each one checked the same way.
/// </summary>
public sealed class WebDownload(IReadOnlyCollection<string> allowedHosts)
{
    private const int MaxRedirects = 5;
    private static readonly int[] AllowedPorts = [80, 443];

    /// <summary>
    /// Checks a URL and resolves its host to the address to connect to; throws <see cref="WebDownloadRefusedException"/>
    /// when it may not be fetched. With <paramref name="unresolvedIsLater"/> a host that does not resolve now passes
    /// (null address): the import fails later, when the fetch checks again, as Glance reports a bad URL.
    /// </summary>
    public async Task<(Uri Uri, IPAddress? Address)> CheckAsync(string url, CancellationToken cancel, bool unresolvedIsLater = false)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
            throw new WebDownloadRefusedException($"URI {url} is not an http or https URL.");
        if (uri.UserInfo.Length > 0) throw new WebDownloadRefusedException("A web-download URI may not carry credentials.");
        var allowed = allowedHosts.Contains(uri.IdnHost, StringComparer.OrdinalIgnoreCase);
        if (!allowed && Array.IndexOf(AllowedPorts, uri.Port) < 0)
            throw new WebDownloadRefusedException($"URI {url}: port {uri.Port} is not allowed (80 and 443 are).");
        IPAddress[] addresses;
        try
        {
            addresses = IPAddress.TryParse(uri.IdnHost.Trim('[', ']'), out var literal) ? [literal] : await Dns.GetHostAddressesAsync(uri.IdnHost, cancel);
        }
        catch (SocketException e)
        {
            if (unresolvedIsLater) return (uri, null);
            throw new WebDownloadRefusedException($"URI {url}: the host does not resolve ({e.SocketErrorCode}).");
        }
        if (addresses.Length == 0) throw new WebDownloadRefusedException($"URI {url}: the host does not resolve.");
        if (!allowed)
            foreach (var address in addresses)
                if (!IsPublic(address)) throw new WebDownloadRefusedException($"URI {url}: {uri.IdnHost} is a private or local address ({address}), which web-download does not fetch.");
        return (uri, addresses[0]);
    }

    /// <summary>Opens the URL (following checked redirects); the caller reads the response and disposes both.</summary>
    public async Task<(HttpClient Client, HttpResponseMessage Response)> OpenAsync(string url, CancellationToken cancel)
    {
        for (var hop = 0; ; hop++)
        {
            var (uri, checkedAddress) = await CheckAsync(url, cancel);
            var address = checkedAddress!;
            var handler = new SocketsHttpHandler
            {
                AllowAutoRedirect = false, UseCookies = false, UseProxy = false,
                ConnectCallback = async (context, ct) =>
                {
                    var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                    try
                    {
                        await socket.ConnectAsync(new IPEndPoint(address, context.DnsEndPoint.Port), ct);
                        return new NetworkStream(socket, ownsSocket: true);
                    }
                    catch
                    {
                        socket.Dispose();
                        throw;
                    }
                },
            };
            var client = new HttpClient(handler, disposeHandler: true) { Timeout = Timeout.InfiniteTimeSpan };
            var response = await client.GetAsync(uri, HttpCompletionOption.ResponseHeadersRead, cancel);
            if ((int)response.StatusCode is >= 300 and < 400 && response.Headers.Location is { } location)
            {
                response.Dispose();
                client.Dispose();
                if (hop == MaxRedirects) throw new WebDownloadRefusedException($"URI {url}: more than {MaxRedirects} redirects.");
                url = new Uri(uri, location).ToString();
                continue;
            }
            if (!response.IsSuccessStatusCode)
            {
                response.Dispose();
                client.Dispose();
                throw new HttpRequestException($"{uri} answered {(int)response.StatusCode}");
            }
            return (client, response);
        }
    }

    /// <summary>True for addresses on the public internet.</summary>
    public static bool IsPublic(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6) address = address.MapToIPv4();
        if (IPAddress.IsLoopback(address) || address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any) || address.Equals(IPAddress.Broadcast)) return false;
        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            var b = address.GetAddressBytes();
            return !(b[0] == 0 || b[0] == 10 || b[0] == 127 || b[0] >= 224
                || (b[0] == 100 && b[1] >= 64 && b[1] < 128)   // carrier-grade NAT
                || (b[0] == 169 && b[1] == 254)                // link-local (cloud metadata services)
                || (b[0] == 172 && b[1] >= 16 && b[1] < 32)
                || (b[0] == 192 && b[1] == 168)
                || (b[0] == 192 && b[1] == 0 && (b[2] == 0 || b[2] == 2))
                || (b[0] == 198 && (b[1] == 18 || b[1] == 19))
                || (b[0] == 198 && b[1] == 51 && b[2] == 100)
                || (b[0] == 203 && b[1] == 0 && b[2] == 113));
        }
        var v6 = address.GetAddressBytes();
        return !(address.IsIPv6LinkLocal || address.IsIPv6SiteLocal || address.IsIPv6Multicast
            || (v6[0] & 0xfe) == 0xfc                                     // unique local fc00::/7
            || (v6[0] == 0x20 && v6[1] == 0x01 && v6[2] == 0x0d && v6[3] == 0xb8) // documentation
            || (v6[0] == 0 && v6[1] == 0x64 && v6[2] == 0xff && v6[3] == 0x9b)); // NAT64, may reach IPv4 private space
    }
}
