namespace StorageCloud.Storage.Rocks;

/// <summary>An error reported by RocksDB, carrying the library's own message.</summary>
public sealed class RocksDbException(string operation, string message)
    : Exception($"rocksdb {operation} failed: {message}")
{
    /// <summary>The binding operation that failed (open, put, write, ...).</summary>
    public string Operation { get; } = operation;

    /// <summary>RocksDB's message, verbatim.</summary>
    public string NativeMessage { get; } = message;
}
