using System.Buffers;
using System.Diagnostics;
using StorageCloud.Common.Hashing;
using StorageCloud.Common.IO;

namespace StorageCloud.Storage.Engine;

/// <summary>What one audit pass over a device found.</summary>
public sealed record AuditResult(long Objects, long Bytes, long Quarantined, TimeSpan Duration);

/// <summary>
/// Swift's object auditor for one device: reads every stored object at a bounded rate, checks the record's CRC
/// and the data's MD5 against its ETag, and quarantines what fails, so that replication restores a good copy.
/// </summary>
public static class ObjectAuditor
{
    /// <summary>Audits every live object on <paramref name="engine"/>, reading at most <paramref name="bytesPerSecond"/>.</summary>
    public static async Task<AuditResult> RunPassAsync(DeviceEngine engine, long bytesPerSecond, CancellationToken cancellationToken = default)
    {
        var started = Stopwatch.GetTimestamp();
        long objects = 0, bytes = 0, quarantined = 0;
        var pacer = new Pacer(bytesPerSecond);
        var buffer = ArrayPool<byte>.Shared.Rent(256 * 1024);
        try
        {
            foreach (var (partition, hash, state) in engine.EnumerateObjects())
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (state.Deleted) continue;
                objects++;
                string? problem = null;
                try
                {
                    using var md5 = new StreamingMd5();
                    var record = engine.Log.OpenRecord(state.Location);
                    int read;
                    while ((read = await record.Data.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
                    {
                        md5.Append(buffer.AsSpan(0, read));
                        bytes += read;
                        await pacer.WaitAsync(read, cancellationToken).ConfigureAwait(false);
                    }
                    var actual = md5.GetHexAndReset();
                    if (actual != state.ETag) problem = $"MD5 {actual} does not match ETag {state.ETag}";
                }
                catch (CorruptRecordException e)
                {
                    problem = e.Message;
                }
                if (problem is not null)
                {
                    engine.Quarantine(partition, hash, state, problem);
                    quarantined++;
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
        return engine.LastAudit = new AuditResult(objects, bytes, quarantined, Stopwatch.GetElapsedTime(started));
    }
}
