using System.Data;
using Dapper;
using StorageCloud.Block.Volumes;

namespace StorageCloud.Block.Backups;

/// <summary>
/// The SQL side of backup storage: which pack holds each block (by digest, per account), which backups use which
/// digests, and the packs' states. Reference and collection run in serializable transactions, so a backup that finds
/// a block to reuse has recorded its use before any collection could free it, and a collection that frees a pack has
/// removed its blocks before any backup could find them.
/// </summary>
public sealed class BackupCatalog(VolumeStore store)
{
    /// <summary>
    /// Records that <paramref name="backupId"/> uses each of <paramref name="digests"/>, and answers where each one
    /// already lies (digests not yet stored are missing from the answer).
    /// </summary>
    public async Task<Dictionary<string, BackupBlockRow>> ReferenceAsync(string backupId, string account, string container, IReadOnlyCollection<string> digests)
    {
        var found = new Dictionary<string, BackupBlockRow>(StringComparer.Ordinal);
        if (digests.Count == 0) return found;
        await using var connection = store.Database.Open();
        await using var transaction = await connection.BeginTransactionAsync(IsolationLevel.Serializable);
        foreach (var digest in digests)
        {
            await connection.ExecuteAsync("INSERT INTO backup_refs (id, backup_id, account, digest) VALUES (@id, @backupId, @account, @digest) ON CONFLICT DO NOTHING",
                new { id = backupId + ":" + digest, backupId, account, digest }, transaction);
        }
        foreach (var row in await connection.QueryAsync<BackupBlockRow>(
                     $"SELECT * FROM backup_blocks WHERE account = @account AND container = @container AND {store.Database.InList("digest", "digests")}",
                     new { account, container, digests = digests.ToArray() }, transaction))
            found.TryAdd(row.Digest, row);
        await transaction.CommitAsync();
        return found;
    }

    /// <summary>Records a pack about to be written (state "writing"), so a crash before it is committed leaves a trace to clean.</summary>
    public Task BeginPackAsync(BackupPackRow pack) => store.InsertAsync(pack);

    /// <summary>Makes a written pack's blocks findable and the pack live.</summary>
    public async Task CommitPackAsync(string pack, IReadOnlyList<BackupBlockRow> blocks)
    {
        await using var connection = store.Database.Open();
        await using var transaction = await connection.BeginTransactionAsync(IsolationLevel.Serializable);
        foreach (var block in blocks)
        {
            await connection.ExecuteAsync(
                "INSERT INTO backup_blocks (id, account, container, digest, pack, position, length) VALUES (@Id, @Account, @Container, @Digest, @Pack, @Position, @Length) ON CONFLICT DO NOTHING",
                block, transaction);
        }
        await connection.ExecuteAsync("UPDATE backup_packs SET state = 'live' WHERE id = @pack", new { pack }, transaction);
        await transaction.CommitAsync();
    }

    /// <summary>Drops a backup's row and every use it made of blocks.</summary>
    public async Task DropBackupAsync(string backupId)
    {
        await using var connection = store.Database.Open();
        await using var transaction = await connection.BeginTransactionAsync(IsolationLevel.Serializable);
        await connection.ExecuteAsync("DELETE FROM backup_refs WHERE backup_id = @backupId", new { backupId }, transaction);
        await connection.ExecuteAsync("DELETE FROM backups WHERE id = @backupId", new { backupId }, transaction);
        await transaction.CommitAsync();
    }

    /// <summary>
    /// Marks dead every live pack of <paramref name="account"/> none of whose blocks a backup uses, and forgets those
    /// blocks; returns the dead packs (whose objects the caller deletes, then <see cref="ForgetPackAsync"/>).
    /// Packs a writer left behind ("writing", of a backup that is no longer being created) are dead too.
    /// </summary>
    public async Task<List<BackupPackRow>> CollectAsync(string account)
    {
        await using var connection = store.Database.Open();
        await using var transaction = await connection.BeginTransactionAsync(IsolationLevel.Serializable);
        var dead = (await connection.QueryAsync<BackupPackRow>(
            """
            SELECT * FROM backup_packs p WHERE p.account = @account AND (
                (p.state = 'live' AND NOT EXISTS (SELECT 1 FROM backup_blocks b JOIN backup_refs r ON r.account = b.account AND r.digest = b.digest WHERE b.pack = p.id))
                OR (p.state = 'writing' AND NOT EXISTS (SELECT 1 FROM backups k WHERE k.id = p.backup_id AND k.status = 'creating'))
                OR p.state = 'dead')
            """, new { account }, transaction)).AsList();
        foreach (var pack in dead)
        {
            await connection.ExecuteAsync("DELETE FROM backup_blocks WHERE pack = @id", new { id = pack.Id }, transaction);
            await connection.ExecuteAsync("UPDATE backup_packs SET state = 'dead' WHERE id = @id", new { id = pack.Id }, transaction);
        }
        await transaction.CommitAsync();
        return dead;
    }

    /// <summary>Forgets a dead pack whose object is gone.</summary>
    public Task ForgetPackAsync(string pack) => store.DeleteAsync<BackupPackRow>(pack);

    /// <summary>The accounts that hold backup packs (for a full collection).</summary>
    public Task<List<string>> AccountsAsync() => store.QueryAsync<string>("SELECT DISTINCT account FROM backup_packs");
}
