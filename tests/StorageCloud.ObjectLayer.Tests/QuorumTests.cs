namespace StorageCloud.ObjectLayer.Tests;

/// <summary>Swift's quorum and best_response rules.</summary>
public sealed class QuorumTests
{
    [Theory]
    [InlineData(1, 1)]
    [InlineData(2, 2)]
    [InlineData(3, 2)]
    [InlineData(4, 3)]
    [InlineData(5, 3)]
    public void A_majority_decides(int replicas, int quorum) => Assert.Equal(quorum, Quorum.Size(replicas));

    [Theory]
    [InlineData(new[] { 201, 201, 201 }, 201)]
    [InlineData(new[] { 201, 201, 0 }, 201)]
    [InlineData(new[] { 201, 0, 0 }, 503)]
    [InlineData(new[] { 201, 202, 503 }, 202)]
    [InlineData(new[] { 404, 404, 201 }, 404)]
    [InlineData(new[] { 404, 409, 0 }, 409)]
    [InlineData(new[] { 500, 503, 201 }, 503)]
    [InlineData(new[] { 204, 404, 404 }, 404)]
    public void The_best_class_with_a_quorum_wins_and_its_highest_status_is_answered(int[] statuses, int expected) =>
        Assert.Equal(expected, Quorum.BestStatus(statuses, Quorum.Size(statuses.Length)));
}
