namespace StorageCloud.Ring.Builder;

/// <summary>
/// Keeps a ring (and its builder file) in a directory in step with the devices a deployment declares: makes it
/// on first start, follows address and port changes without moving partitions, and adds new devices with a
/// rebalance. Used by the all-in-one appliance and the development cluster, which build their own rings.
/// </summary>
public static class RingSetup
{
    /// <summary>Brings ring <paramref name="name"/> (e.g. "object") in line with <paramref name="devices"/> (matched by ip-free identity: zone and device name); returns its path.</summary>
    public static string Ensure(string directory, string name, int partPower, int replicas, IReadOnlyList<RingDevice> devices)
    {
        Directory.CreateDirectory(directory);
        var builderPath = Path.Combine(directory, name + ".builder.json");
        var ringPath = Path.Combine(directory, name + ".ring.gz");
        var builder = File.Exists(builderPath) ? BuilderFile.Load(builderPath) : new RingBuilder(partPower, replicas, minPartHours: 1);
        var changed = !File.Exists(builderPath) || !File.Exists(ringPath);
        var rebalance = builder.Table is null;
        foreach (var wanted in devices)
        {
            RingDevice? held = null;
            foreach (var d in builder.LiveDevices)
                if (d.Device == wanted.Device && d.Zone == wanted.Zone && d.Region == wanted.Region) held = d;
            if (held is null)
            {
                builder.AddDevice(wanted);
                rebalance = true;
            }
            else if (held.Ip != wanted.Ip || held.Port != wanted.Port || held.ReplicationIp != wanted.ReplicationIp || held.ReplicationPort != wanted.ReplicationPort)
            {
                builder.SetInfo(held.Id, d => d with { Ip = wanted.Ip, Port = wanted.Port, ReplicationIp = wanted.ReplicationIp, ReplicationPort = wanted.ReplicationPort });
                changed = true;
            }
        }
        if (rebalance)
        {
            builder.PretendMinPartHoursPassed();
            builder.Rebalance();
        }
        if (changed || rebalance)
        {
            BuilderFile.Save(builder, builderPath);
            RingFile.Write(builder.ToRingData(), ringPath);
        }
        return ringPath;
    }
}
