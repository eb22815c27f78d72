namespace StorageCloud.Host.Tests.Probe;

/// <summary>
/// The probe tests kill storage nodes at chosen moments (under fio, in a replication pass); on 2 cores, a dozen other
/// appliances, a browser and a QEMU guest running beside them stretch those moments past what the tests assume. They
/// run in this collection, which xunit runs on its own, after the parallel tests.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ProbeCollection
{
    /// <summary>The collection's name.</summary>
    public const string Name = "probes";
}
