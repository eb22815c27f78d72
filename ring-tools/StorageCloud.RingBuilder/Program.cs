using StorageCloud.Ring.Builder;

namespace StorageCloud.RingTools;

/// <summary>Entry point: storagecloud-ring-builder &lt;builder_file&gt; [verb] [arguments].</summary>
public static class Program
{
    /// <summary>Runs one verb; 0 on success, 1 on any error (the builder file is left as it was).</summary>
    public static int Main(string[] args)
    {
        if (args.Length == 0 || args[0] is "-h" or "--help" or "help")
        {
            Console.Out.WriteLine(Usage);
            return args.Length == 0 ? 1 : 0;
        }
        try
        {
            return new Commands(args[0], Console.Out).Run(args.Length > 1 ? args[1] : null, args.Skip(2).ToArray());
        }
        catch (RingBuilderException e)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return 1;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return 1;
        }
    }

    /// <summary>The help text.</summary>
    public const string Usage = """
        usage: storagecloud-ring-builder <builder_file> [verb] [arguments]

          <builder_file>                                  print the summary (devices, partitions, balance, dispersion)
          <builder_file> create <part_power> <replicas> <min_part_hours>
          <builder_file> add r<region>z<zone>-<ip>:<port>[R<ip>:<port>]/<device>[_<meta>] <weight> [<value> <weight> ...]
          <builder_file> add --region <r> --zone <z> --ip <ip> --port <port> [--replication-ip <ip>]
                             [--replication-port <port>] --device <name> --weight <w> [--meta <meta>]
          <builder_file> remove <search-value> [...] [--yes]
          <builder_file> set_weight <search-value> <weight> [<search-value> <weight> ...] [--yes]
          <builder_file> set_info <search-value> <ip>:<port>[R<ip>:<port>]/<device>_<meta> [...] [--yes]
          <builder_file> set_min_part_hours <hours>
          <builder_file> set_replicas <replicas>
          <builder_file> rebalance [--seed <n>] [--force]
          <builder_file> pretend_min_part_hours_passed
          <builder_file> validate
          <builder_file> search <search-value>
          <builder_file> list_parts <search-value> [...]
          <builder_file> dispersion [--verbose]
          <builder_file> write_ring

        search values: d<id> r<region> z<zone> -<ip> :<port> R<ip>:<port> /<device> _<meta>, any combination.
        Exit codes: 0 success, 1 error (nothing is written).
        """;
}
