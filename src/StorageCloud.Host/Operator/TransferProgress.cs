using System.Security.Cryptography;
using Spectre.Console;

namespace StorageCloud.Host.Operator;

/// <summary>Progress bars for uploads and downloads of the operator commands: bytes done, speed, time left.</summary>
public static class TransferProgress
{
    /// <summary>Runs <paramref name="work"/> under one progress bar of <paramref name="total"/> bytes; the work reports bytes as they move.</summary>
    public static async Task<T> RunAsync<T>(string description, long total, Func<Action<long>, Task<T>> work)
    {
        T result = default!;
        await AnsiConsole.Progress().AutoClear(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new DownloadedColumn(), new TransferSpeedColumn(), new RemainingTimeColumn())
            .StartAsync(async context =>
            {
                var task = context.AddTask(Markup.Escape(description), maxValue: Math.Max(total, 1));
                result = await work(bytes => task.Increment(bytes));
                task.Value = task.MaxValue;
            });
        return result;
    }
}

/// <summary>
/// Reads at most <c>limit</c> bytes of another stream, telling each read to a progress callback and to an MD5 (so
/// the command can compare what it sent with the ETag the object store computed).
/// </summary>
public sealed class ProgressReadStream(Stream inner, long limit, Action<long> progress) : Stream
{
    private readonly IncrementalHash _md5 = IncrementalHash.CreateHash(HashAlgorithmName.MD5);
    private readonly long _limit = limit;
    private long _left = limit;

    private string? _digest;

    /// <summary>The MD5 of what was read, in hex, once the stream has ended (it is kept past disposal: HttpClient disposes what it sent).</summary>
    public string Md5Hex() => _digest ??= Convert.ToHexStringLower(_md5.GetHashAndReset());

    /// <inheritdoc />
    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (_left == 0 || _digest is not null)
        {
            Md5Hex();
            return 0;
        }
        var read = await inner.ReadAsync(buffer[..(int)Math.Min(buffer.Length, _left)], cancellationToken);
        _left -= read;
        _md5.AppendData(buffer.Span[..read]);
        progress(read);
        if (read == 0 || _left == 0) Md5Hex();
        return read;
    }

    /// <inheritdoc />
    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    /// <inheritdoc />
    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    /// <inheritdoc />
    public override bool CanRead => true;

    /// <inheritdoc />
    public override bool CanSeek => false;

    /// <inheritdoc />
    public override bool CanWrite => false;

    /// <inheritdoc />
    public override long Length => _limit;

    /// <inheritdoc />
    public override long Position { get => _limit - _left; set => throw new NotSupportedException(); }

    /// <inheritdoc />
    public override void Flush()
    {
    }

    /// <inheritdoc />
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    /// <inheritdoc />
    public override void SetLength(long value) => throw new NotSupportedException();

    /// <inheritdoc />
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            Md5Hex();
            _md5.Dispose();
        }
        base.Dispose(disposing);
    }
}
