using StorageCloud.Common.Http;
using System.Collections.Frozen;
using System.IO.Pipelines;
using System.Net;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace StorageCloud.Service.Http;

/// <summary>
/// The storage listeners of this very process (the all-in-one appliance's object, container and account servers),
/// by the host and port the rings name them with. A backend request for one of them runs straight through its
/// pipeline in memory: no socket, no HTTP parsing, no thread hand-offs through the kernel. Requests for any other
/// address go out over the network as before. Bodies stream both ways through pipes, as over a connection; the
/// request body is asked for only when the server first reads it, as with 100-continue, so a server that answers
/// before reading (507, 409) is seen to do so before any byte is sent.
/// </summary>
public sealed class InProcessRoutes : Common.Http.ILocalRoutes
{
    private FrozenDictionary<(string Host, int Port), RequestDelegate> _routes = FrozenDictionary<(string, int), RequestDelegate>.Empty;

    /// <summary>Services that in-process requests see as their RequestServices.</summary>
    public IServiceProvider? Services { get; set; }

    /// <summary>Routes requests for <paramref name="host"/>:<paramref name="port"/> to <paramref name="pipeline"/>.</summary>
    public void Add(string host, int port, RequestDelegate pipeline)
    {
        var routes = new Dictionary<(string, int), RequestDelegate>(_routes) { [(host, port)] = pipeline };
        _routes = routes.ToFrozenDictionary();
    }

    /// <summary>A handler that takes in-process routes and sends everything else through <paramref name="inner"/>.</summary>
    public HttpMessageHandler CreateHandler(HttpMessageHandler inner) => new Handler(this, inner);

    private sealed class Handler(InProcessRoutes routes, HttpMessageHandler inner) : DelegatingHandler(inner)
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var uri = request.RequestUri!;
            return routes._routes.TryGetValue((uri.Host, uri.Port), out var pipeline)
                ? InProcessExchange.RunAsync(pipeline, request, routes.Services, cancellationToken)
                : base.SendAsync(request, cancellationToken);
        }
    }
}

/// <summary>One request run in memory: the server side's features over the client side's request and a response pipe.</summary>
internal sealed class InProcessExchange : HttpResponseFeature, IHttpResponseBodyFeature, IHttpRequestLifetimeFeature
{
    private readonly Pipe _response = new(new PipeOptions(pauseWriterThreshold: 512 * 1024, resumeWriterThreshold: 256 * 1024, useSynchronizationContext: false));
    private readonly TaskCompletionSource<HttpResponseMessage> _answered = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Stack<(Func<object, Task> Callback, object State)> _starting = new();
    private readonly Stack<(Func<object, Task> Callback, object State)> _completed = new();
    private readonly HttpRequestMessage _request;
    private readonly CancellationTokenSource _aborted;
    private readonly ResponseStream _stream;
    private PipeWriter? _writer;
    private bool _started;

    private InProcessExchange(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        _request = request;
        _aborted = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        _stream = new ResponseStream(this);
#pragma warning disable CS0618 // the response feature's own Body is obsolete but still read by some callers
        Body = _stream;
#pragma warning restore CS0618
    }

    public static Task<HttpResponseMessage> RunAsync(RequestDelegate pipeline, HttpRequestMessage request, IServiceProvider? services, CancellationToken cancellationToken)
    {
        var exchange = new InProcessExchange(request, cancellationToken);
        var uri = request.RequestUri!;
        // The target exactly as the client quoted it: servers parse names from the raw target.
        var original = uri.OriginalString;
        var target = original[(original.IndexOf('/', original.IndexOf("//", StringComparison.Ordinal) + 2) is var slash and >= 0 ? slash : original.Length)..];
        if (target.Length == 0) target = "/";
        var q = target.IndexOf('?');
        var feature = new HttpRequestFeature
        {
            Protocol = "HTTP/1.1", Scheme = "http", Method = request.Method.Method, RawTarget = target,
            Path = DecodePath(q < 0 ? target : target[..q]), QueryString = q < 0 ? "" : target[q..],
            Body = new RequestBodyStream(request.Content, exchange._aborted.Token),
        };
        // An empty body is sent at once, as HttpClient sends one without waiting for 100 Continue: a server
        // that never reads it must still see the client's side complete.
        if (request.Content?.Headers.ContentLength == 0) ((RequestBodyStream)feature.Body).Start();
        feature.Headers.Host = uri.Authority;
        // The values exactly as the client set them (NonValidated: no parsing, so "a;b" is not rewritten as "a; b").
        foreach (var (name, values) in request.Headers.NonValidated)
            if (!name.Equals("Expect", StringComparison.OrdinalIgnoreCase)) feature.Headers[name] = Values(values);
        if (request.Content is { } content)
        {
            foreach (var (name, values) in content.Headers.NonValidated) feature.Headers[name] = Values(values);
            if (content.Headers.ContentLength is null) feature.Headers.TransferEncoding = "chunked";
        }
        var features = new FeatureCollection();
        features.Set<IHttpRequestFeature>(feature);
        features.Set<IHttpResponseFeature>(exchange);
        features.Set<IHttpResponseBodyFeature>(exchange);
        features.Set<IHttpRequestLifetimeFeature>(exchange);
        if (request.Content is ISenderDigest digest) features.Set(digest);
        features.Set<IHttpConnectionFeature>(new HttpConnectionFeature
        {
            ConnectionId = "in-process", LocalIpAddress = IPAddress.Loopback, LocalPort = uri.Port, RemoteIpAddress = IPAddress.Loopback,
        });
        var context = new DefaultHttpContext(features);
        if (services is not null) context.RequestServices = services;
        _ = Task.Run(() => exchange.ProcessAsync(pipeline, context));
        return cancellationToken.CanBeCanceled ? AnsweredAsync(exchange._answered.Task, cancellationToken) : exchange._answered.Task;
    }

    // As over a socket, the client's cancellation (a node timeout) ends its wait even if the server never answers;
    // an answer that comes later is disposed, which tells the server the client left.
    private static async Task<HttpResponseMessage> AnsweredAsync(Task<HttpResponseMessage> answered, CancellationToken cancellationToken)
    {
        try
        {
            return await answered.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            _ = answered.ContinueWith(t => t.Result.Dispose(), CancellationToken.None, TaskContinuationOptions.OnlyOnRanToCompletion, TaskScheduler.Default);
            throw;
        }
    }

    // As Kestrel decodes a path: everything but %2F, which stays encoded so it cannot become a segment separator.
    private static string DecodePath(string raw)
    {
        if (!raw.Contains('%')) return raw;
        var decoded = new System.Text.StringBuilder(raw.Length);
        var start = 0;
        for (var i = raw.IndexOf('%'); i >= 0 && i + 2 < raw.Length; i = raw.IndexOf('%', i + 1))
        {
            if (raw[i + 1] != '2' || (raw[i + 2] != 'F' && raw[i + 2] != 'f')) continue;
            decoded.Append(Uri.UnescapeDataString(raw[start..i])).Append(raw, i, 3);
            start = i + 3;
        }
        return decoded.Append(Uri.UnescapeDataString(raw[start..])).ToString();
    }

    private static Microsoft.Extensions.Primitives.StringValues Values(System.Net.Http.Headers.HeaderStringValues values)
    {
        if (values.Count == 1) return values.ToString();
        var list = new string[values.Count];
        var i = 0;
        foreach (var v in values) list[i++] = v;
        return list;
    }

    private async Task ProcessAsync(RequestDelegate pipeline, HttpContext context)
    {
        Exception? failure = null;
        try
        {
            await pipeline(context).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            failure = e;
            if (!_started)
            {
                StatusCode = 500;
                Headers.Clear();
                failure = null;
            }
        }
        try
        {
            await StartAsync().ConfigureAwait(false);
        }
        catch (Exception e)
        {
            _answered.TrySetException(e);
        }
        await _response.Writer.CompleteAsync(failure is null ? null : new IOException("the in-process server failed mid-response", failure)).ConfigureAwait(false);
        while (_completed.TryPop(out var entry))
        {
            try
            {
                await entry.Callback(entry.State).ConfigureAwait(false);
            }
            catch (Exception)
            {
                // As Kestrel: a failing completion callback is the server's problem, not the client's.
            }
        }
        await ((RequestBodyStream)context.Request.Body).DisposeAsync().ConfigureAwait(false);
        _aborted.Dispose();
    }

    public override bool HasStarted => _started;

    public override void OnStarting(Func<object, Task> callback, object state) => _starting.Push((callback, state));

    public override void OnCompleted(Func<object, Task> callback, object state) => _completed.Push((callback, state));

    Stream IHttpResponseBodyFeature.Stream => _stream;

    PipeWriter IHttpResponseBodyFeature.Writer => _writer ??= PipeWriter.Create(_stream, new StreamPipeWriterOptions(leaveOpen: true));

    void IHttpResponseBodyFeature.DisableBuffering()
    {
    }

    Task IHttpResponseBodyFeature.SendFileAsync(string path, long offset, long? count, CancellationToken cancellationToken) =>
        SendFileFallback.SendFileAsync(_stream, path, offset, count, cancellationToken);

    Task IHttpResponseBodyFeature.StartAsync(CancellationToken cancellationToken) => StartAsync();

    async Task IHttpResponseBodyFeature.CompleteAsync()
    {
        await StartAsync().ConfigureAwait(false);
        if (_writer is not null) await _writer.FlushAsync().ConfigureAwait(false);
    }

    CancellationToken IHttpRequestLifetimeFeature.RequestAborted
    {
        get => _aborted.Token;
        set { }
    }

    void IHttpRequestLifetimeFeature.Abort() => _aborted.Cancel();

    /// <summary>Runs the OnStarting callbacks (last registered first), then hands the status and headers to the client.</summary>
    private async Task StartAsync()
    {
        if (_started) return;
        while (_starting.TryPop(out var entry)) await entry.Callback(entry.State).ConfigureAwait(false);
        _started = true;
        var message = new HttpResponseMessage((HttpStatusCode)StatusCode) { RequestMessage = _request, Version = HttpVersion.Version11 };
        if (ReasonPhrase is { } reason) message.ReasonPhrase = reason;
        var content = new StreamContent(new ResponseReadStream(_response.Reader, _aborted));
        foreach (var (name, values) in Headers)
            if (!message.Headers.TryAddWithoutValidation(name, (IEnumerable<string?>)values)) content.Headers.TryAddWithoutValidation(name, (IEnumerable<string?>)values);
        message.Content = content;
        _answered.TrySetResult(message);
    }

    private async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken)
    {
        await StartAsync().ConfigureAwait(false);
        var result = await _response.Writer.WriteAsync(buffer, cancellationToken).ConfigureAwait(false);
        // The client stopped reading (it disposed the response): as a closed connection, the request is aborted.
        if (result.IsCompleted) await _aborted.CancelAsync().ConfigureAwait(false);
    }

    /// <summary>The server's view of the response body.</summary>
    private sealed class ResponseStream(InProcessExchange exchange) : Common.IO.WriteOnlyStream
    {
        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) => exchange.WriteAsync(buffer, cancellationToken);

        public override void Write(byte[] buffer, int offset, int count) => exchange.WriteAsync(buffer.AsMemory(offset, count), default).AsTask().GetAwaiter().GetResult();

        public override Task FlushAsync(CancellationToken cancellationToken) => exchange.StartAsync();

        public override void Flush() => exchange.StartAsync().GetAwaiter().GetResult();
    }

    /// <summary>The client's view of the response body; disposing it before the end tells the server the client left.</summary>
    private sealed class ResponseReadStream(PipeReader reader, CancellationTokenSource aborted) : Common.IO.ReadOnlyStream
    {
        private readonly Stream _inner = reader.AsStream(leaveOpen: true);
        private bool _done;

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            var read = await _inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
            if (read == 0) _done = true;
            return read;
        }

        public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                if (!_done)
                {
                    try
                    {
                        aborted.Cancel();
                    }
                    catch (ObjectDisposedException)
                    {
                    }
                }
                reader.Complete();
            }
            base.Dispose(disposing);
        }
    }

    /// <summary>
    /// The server's view of the request body: the client's content is copied into a pipe, starting only when the
    /// server first reads (as a server's first read sends 100 Continue).
    /// </summary>
    private sealed class RequestBodyStream(HttpContent? content, CancellationToken aborted) : Common.IO.ReadOnlyStream
    {
        private readonly Pipe _pipe = new(new PipeOptions(pauseWriterThreshold: 512 * 1024, resumeWriterThreshold: 256 * 1024, useSynchronizationContext: false));
        private Stream? _reader;
        private Task? _pump;

        /// <summary>Starts copying the client's content (on the server's first read, or at once for an empty body).</summary>
        public void Start() => _pump ??= PumpAsync();

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (content is null) return 0;
            Start();
            _reader ??= _pipe.Reader.AsStream(leaveOpen: true);
            return await _reader.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
        }

        public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

        private async Task PumpAsync()
        {
            try
            {
                await content!.CopyToAsync(_pipe.Writer.AsStream(leaveOpen: true), aborted).ConfigureAwait(false);
                await _pipe.Writer.CompleteAsync().ConfigureAwait(false);
            }
            catch (Exception e)
            {
                // A body cut short by its sender reads as a broken connection does: an IOException.
                await _pipe.Writer.CompleteAsync(new IOException("the request body ended early", e)).ConfigureAwait(false);
            }
        }

        public override async ValueTask DisposeAsync()
        {
            await _pipe.Reader.CompleteAsync().ConfigureAwait(false);
            if (_pump is not null) await _pump.ConfigureAwait(false);
            await base.DisposeAsync().ConfigureAwait(false);
        }
    }
}
