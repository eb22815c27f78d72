using System.Net.Sockets;
using System.Text;

namespace StorageCloud.Proxy.Tests;

/// <summary>Requests no well-behaved client would send (a Content-Length with no body, a body cut short), over a plain socket.</summary>
public static class RawHttp
{
    /// <summary>Sends the request head (and optional body bytes), then reads the status line, headers and body of the answer.</summary>
    public static Task<(int Status, string Head, string Body)> SendAsync(string baseUrl, string head, byte[]? body = null, bool closeAfterSend = false) =>
        SendBytesAsync(baseUrl, [.. Encoding.ASCII.GetBytes(head.ReplaceLineEndings("\r\n").TrimEnd() + "\r\n\r\n"), .. body ?? []],
            head.StartsWith("HEAD", StringComparison.Ordinal), closeAfterSend);

    /// <summary>Sends bytes exactly as given (a head with bytes no encoding would produce), then reads the answer.</summary>
    public static async Task<(int Status, string Head, string Body)> SendBytesAsync(string baseUrl, byte[] request, bool isHead = false, bool closeAfterSend = false)
    {
        var uri = new Uri(baseUrl);
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(uri.Host, uri.Port);
        var stream = tcp.GetStream();
        await stream.WriteAsync(request);
        if (closeAfterSend) tcp.Client.Shutdown(SocketShutdown.Send);
        var buffer = new MemoryStream();
        var chunk = new byte[8192];
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (true)
        {
            int n;
            try
            {
                n = await stream.ReadAsync(chunk, timeout.Token);
            }
            catch (IOException)
            {
                break;
            }
            if (n == 0) break;
            buffer.Write(chunk, 0, n);
            var text = Encoding.UTF8.GetString(buffer.ToArray());
            var end = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
            if (end < 0) continue;
            var headText = text[..end];
            var lengthLine = headText.Split("\r\n").FirstOrDefault(l => l.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase));
            var length = lengthLine is null ? 0 : int.Parse(lengthLine.Split(':')[1].Trim());
            if (Encoding.UTF8.GetByteCount(text[(end + 4)..]) >= length || isHead)
                return (int.Parse(headText.Split(' ')[1]), headText, text[(end + 4)..]);
        }
        var all = Encoding.UTF8.GetString(buffer.ToArray());
        return all.Length == 0 ? (0, "", "") : (int.Parse(all.Split(' ')[1]), all, "");
    }
}
