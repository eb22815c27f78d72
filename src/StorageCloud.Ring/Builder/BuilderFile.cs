using System.Text.Json;
using System.Text.Json.Serialization;

namespace StorageCloud.Ring.Builder;

/// <summary>
/// The builder's own state file: versioned JSON with the devices, the assignment table and when each partition
/// last moved. Written atomically (temporary file, fsync, rename), so a failed command never leaves half a file.
/// </summary>
public static class BuilderFile
{
    /// <summary>The format name in every builder file.</summary>
    public const string Format = "storagecloud-ring-builder";

    /// <summary>The format version this code writes and reads.</summary>
    public const int FormatVersion = 1;

    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    /// <summary>Saves the builder to <paramref name="path"/>.</summary>
    public static void Save(RingBuilder builder, string path)
    {
        var state = new State
        {
            Format = Format,
            FormatVersion = FormatVersion,
            PartPower = builder.PartPower,
            Replicas = builder.Replicas,
            MinPartHours = builder.MinPartHours,
            Version = builder.Version,
            DevicesChanged = builder.DevicesChanged,
            Devices = [.. builder.Devices.Select(d => d is null ? null : DeviceState.From(d))],
            PendingRemoval = [.. builder.PendingRemoval.Order()],
            Table = builder.Table?.Select(row => Convert.ToBase64String(System.Runtime.InteropServices.MemoryMarshal.AsBytes(row.AsSpan()))).ToList(),
            LastPartMoves = Convert.ToBase64String(System.Runtime.InteropServices.MemoryMarshal.AsBytes(builder.LastPartMoves.AsSpan())),
        };
        var full = Path.GetFullPath(path);
        var temp = Path.Combine(Path.GetDirectoryName(full)!, $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write))
            {
                JsonSerializer.Serialize(file, state, Json);
                file.Flush(flushToDisk: true);
            }
            File.Move(temp, full, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
    }

    /// <summary>Loads a builder file; a file that is not one gives a <see cref="RingBuilderException"/>.</summary>
    public static RingBuilder Load(string path)
    {
        if (!File.Exists(path)) throw new RingBuilderException($"builder file {path} does not exist (create it first)");
        State state;
        try
        {
            using var file = File.OpenRead(path);
            state = JsonSerializer.Deserialize<State>(file, Json) ?? throw new RingBuilderException($"{path} is empty");
        }
        catch (JsonException e)
        {
            throw new RingBuilderException($"{path} is not a builder file: {e.Message}");
        }
        if (state.Format != Format) throw new RingBuilderException($"{path} is not a {Format} file");
        if (state.FormatVersion != FormatVersion) throw new RingBuilderException($"{path} has format version {state.FormatVersion}; this tool reads {FormatVersion}");
        var builder = new RingBuilder(state.PartPower, state.Replicas, state.MinPartHours)
        {
            Version = state.Version,
            DevicesChanged = state.DevicesChanged,
        };
        builder.Restore(state.Devices.Select(d => d?.ToDevice()), state.PendingRemoval);
        if (state.Table is { } table)
        {
            builder.Table = [.. table.Select(row => System.Runtime.InteropServices.MemoryMarshal.Cast<byte, ushort>(Convert.FromBase64String(row)).ToArray())];
        }
        var moves = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, long>(Convert.FromBase64String(state.LastPartMoves ?? "")).ToArray();
        if (moves.Length == builder.PartitionCount) builder.LastPartMoves = moves;
        return builder;
    }

    private sealed class State
    {
        public string Format { get; set; } = "";
        public int FormatVersion { get; set; }
        public int PartPower { get; set; }
        public double Replicas { get; set; }
        public int MinPartHours { get; set; }
        public int Version { get; set; }
        public bool DevicesChanged { get; set; }
        public List<DeviceState?> Devices { get; set; } = [];
        public List<int> PendingRemoval { get; set; } = [];
        public List<string>? Table { get; set; }
        public string? LastPartMoves { get; set; }
    }

    private sealed class DeviceState
    {
        public int Id { get; set; }
        public int Region { get; set; }
        public int Zone { get; set; }
        public string Ip { get; set; } = "";
        public int Port { get; set; }
        public string? ReplicationIp { get; set; }
        public int? ReplicationPort { get; set; }
        public string Device { get; set; } = "";
        public double Weight { get; set; }
        public string Meta { get; set; } = "";

        public static DeviceState From(RingDevice d) => new()
        {
            Id = d.Id, Region = d.Region, Zone = d.Zone, Ip = d.Ip, Port = d.Port, ReplicationIp = d.ReplicationIp,
            ReplicationPort = d.ReplicationPort, Device = d.Device, Weight = d.Weight, Meta = d.Meta,
        };

        public RingDevice ToDevice() => new()
        {
            Id = Id, Region = Region, Zone = Zone, Ip = Ip, Port = Port, ReplicationIp = ReplicationIp,
            ReplicationPort = ReplicationPort, Device = Device, Weight = Weight, Meta = Meta,
        };
    }
}
