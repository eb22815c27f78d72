namespace StorageCloud.ObjectLayer;

/// <summary>Swift's quorum rules: a majority of replicas decides a write; the best status class that reaches it wins.</summary>
public static class Quorum
{
    /// <summary>Replies needed to decide: a majority (2 of 3, 3 of 4, 1 of 1).</summary>
    public static int Size(int replicas) => replicas / 2 + 1;

    /// <summary>
    /// The status for the replies (0 for a node that failed): the highest status of the first class (1xx, 2xx,
    /// 3xx, 4xx, in that order) with a quorum of replies, else 503 (Swift's best_response).
    /// </summary>
    public static int BestStatus(IReadOnlyList<int> statuses, int quorum)
    {
        for (var hundred = 100; hundred <= 400; hundred += 100)
        {
            var count = 0;
            var max = 0;
            foreach (var s in statuses)
            {
                if (s < hundred || s >= hundred + 100) continue;
                count++;
                if (s > max) max = s;
            }
            if (count >= quorum) return max;
        }
        return 503;
    }
}
