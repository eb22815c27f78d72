namespace StorageCloud.Block.Nbd;

/// <summary>The NBD protocol's numbers (NetworkBlockDevice/nbd doc/proto.md), big-endian on the wire.</summary>
internal static class NbdProtocol
{
    public const ulong InitMagic = 0x4e42444d41474943; // "NBDMAGIC"
    public const ulong OptionMagic = 0x49484156454F5054; // "IHAVEOPT"
    public const ulong OptionReplyMagic = 0x3e889045565a9;
    public const uint RequestMagic = 0x25609513;
    public const uint SimpleReplyMagic = 0x67446698;
    public const uint StructuredReplyMagic = 0x668e33ef;

    // Handshake flags (server) and client flags.
    public const ushort FlagFixedNewstyle = 1 << 0;
    public const ushort FlagNoZeroes = 1 << 1;
    public const uint ClientFixedNewstyle = 1 << 0;
    public const uint ClientNoZeroes = 1 << 1;

    // Options.
    public const uint OptExportName = 1;
    public const uint OptAbort = 2;
    public const uint OptList = 3;
    public const uint OptStartTls = 5;
    public const uint OptInfo = 6;
    public const uint OptGo = 7;
    public const uint OptStructuredReply = 8;
    public const uint OptListMetaContext = 9;
    public const uint OptSetMetaContext = 10;

    // Option replies.
    public const uint RepAck = 1;
    public const uint RepServer = 2;
    public const uint RepInfo = 3;
    public const uint RepMetaContext = 4;
    public const uint RepErrUnsup = 0x80000000 | 1;
    public const uint RepErrPolicy = 0x80000000 | 2;
    public const uint RepErrInvalid = 0x80000000 | 3;
    public const uint RepErrUnknown = 0x80000000 | 6;
    public const uint RepErrTooBig = 0x80000000 | 9;

    // Info types.
    public const ushort InfoExport = 0;
    public const ushort InfoName = 1;
    public const ushort InfoDescription = 2;
    public const ushort InfoBlockSize = 3;

    // Transmission flags.
    public const ushort TxHasFlags = 1 << 0;
    public const ushort TxSendFlush = 1 << 2;
    public const ushort TxSendFua = 1 << 3;
    public const ushort TxSendTrim = 1 << 5;
    public const ushort TxSendWriteZeroes = 1 << 6;
    public const ushort TxSendDf = 1 << 7;
    public const ushort TxCanMultiConn = 1 << 8;
    public const ushort TxSendCache = 1 << 10;
    public const ushort TxSendFastZero = 1 << 11;

    // Commands.
    public const ushort CmdRead = 0;
    public const ushort CmdWrite = 1;
    public const ushort CmdDisc = 2;
    public const ushort CmdFlush = 3;
    public const ushort CmdTrim = 4;
    public const ushort CmdCache = 5;
    public const ushort CmdWriteZeroes = 6;
    public const ushort CmdBlockStatus = 7;

    // Command flags.
    public const ushort CmdFlagFua = 1 << 0;
    public const ushort CmdFlagNoHole = 1 << 1;
    public const ushort CmdFlagDf = 1 << 2;
    public const ushort CmdFlagReqOne = 1 << 3;
    public const ushort CmdFlagFastZero = 1 << 4;

    // Structured reply chunks.
    public const ushort ReplyFlagDone = 1 << 0;
    public const ushort ReplyNone = 0;
    public const ushort ReplyOffsetData = 1;
    public const ushort ReplyBlockStatus = 5;
    public const ushort ReplyError = 0x8001;

    // Errors.
    public const uint EPERM = 1;
    public const uint EIO = 5;
    public const uint EINVAL = 22;
    public const uint ENOSPC = 28;
    public const uint EOVERFLOW = 75;
    public const uint ENOTSUP = 95;
    public const uint ESHUTDOWN = 108;

    // base:allocation.
    public const string BaseAllocation = "base:allocation";
    public const uint BaseAllocationId = 1;
    public const uint StateHole = 1;
    public const uint StateZero = 2;

    /// <summary>Block sizes the server states: any byte, 4 KiB preferred, 32 MiB at most per request.</summary>
    public const uint MinimumBlock = 1, PreferredBlock = 4096, MaximumBlock = 32 * 1024 * 1024;

    /// <summary>Longest option data read before the connection is dropped as hostile.</summary>
    public const int MaxOptionLength = 64 * 1024;
}
