using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;

namespace StorageCloud.Compute.Drivers;

/// <summary>
/// One conversation with a QEMU guest's QMP socket: the greeting, capabilities negotiation, then commands, each
/// answered by a line with "return" or "error" (event lines in between are skipped). QEMU's QMP server takes one
/// client at a time, so a connection lives for one operation.
/// </summary>
public sealed class QmpConnection : IAsyncDisposable
{
    private static readonly TimeSpan ReplyTimeout = TimeSpan.FromSeconds(30);
    private readonly Socket _socket;
    private readonly StreamReader _reader;
    private readonly NetworkStream _stream;

    private QmpConnection(Socket socket)
    {
        _socket = socket;
        _stream = new NetworkStream(socket, ownsSocket: true);
        _reader = new StreamReader(_stream, Encoding.UTF8);
    }

    /// <summary>Connects and negotiates; throws when QEMU does not answer as QMP does.</summary>
    public static async Task<QmpConnection> OpenAsync(string socketPath)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath));
        }
        catch
        {
            socket.Dispose();
            throw;
        }
        var connection = new QmpConnection(socket);
        try
        {
            var greeting = await connection.ReadLineAsync();
            if (greeting?["QMP"] is null) throw new IOException("the QMP socket did not greet as QMP does");
            await connection.ExecuteAsync("qmp_capabilities");
            return connection;
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    /// <summary>Runs one command and returns its "return" value; a QMP error becomes a <see cref="QmpException"/>.</summary>
    public async Task<JsonNode?> ExecuteAsync(string command, JsonObject? arguments = null)
    {
        var request = new JsonObject { ["execute"] = command };
        if (arguments is not null) request["arguments"] = arguments;
        var bytes = Encoding.UTF8.GetBytes(request.ToJsonString() + "\n");
        await _stream.WriteAsync(bytes);
        while (true)
        {
            var reply = await ReadLineAsync() ?? throw new IOException($"QEMU closed the QMP socket during {command}");
            if (reply.ContainsKey("return")) return reply["return"];
            if (reply["error"] is JsonObject error) throw new QmpException(command, error["class"]?.ToString() ?? "", error["desc"]?.ToString() ?? "");
        }
    }

    private async Task<JsonObject?> ReadLineAsync()
    {
        using var timeout = new CancellationTokenSource(ReplyTimeout);
        var line = await _reader.ReadLineAsync(timeout.Token);
        return line is null ? null : JsonNode.Parse(line) as JsonObject ?? throw new IOException("QMP sent a line that is not a JSON object");
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        _reader.Dispose();
        await _stream.DisposeAsync();
        _socket.Dispose();
    }
}

/// <summary>A QMP command QEMU refused, with its error class and description.</summary>
public sealed class QmpException(string command, string errorClass, string description)
    : Exception($"QEMU refused {command}: {errorClass}: {description}")
{
    /// <summary>QMP's error class (GenericError, DeviceNotFound, ...).</summary>
    public string ErrorClass { get; } = errorClass;
}
