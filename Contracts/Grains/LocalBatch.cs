using System.Buffers;
using System.Diagnostics;

namespace OrleansBus.Contracts.Grains;

/// <summary>
/// A validated produce body that stays in the receiving silo's request buffers: passed by reference to that silo's own
/// <see cref="IChunkWriterGrain"/> (immutable, so the in-silo call does not copy it) and written to the chunk file from
/// there. The bytes are never serialized: a copy that crossed the network arrives with <see cref="IsLocal"/> false and
/// is refused, so bytes travel between silos over HTTP only. The owner of the buffers keeps them alive until the call ends.
/// </summary>
[GenerateSerializer, Immutable, Alias("orleansbus.LocalBatch")]
public sealed class LocalBatch
{
    [NonSerialized]
    private readonly ReadOnlySequence<byte> _body;

    [NonSerialized]
    private readonly bool _isLocal;

    [NonSerialized]
    private readonly ActivityContext _trace;

    /// <summary>
    /// A batch of <paramref name="messages"/> whole messages whose CRC-32C is <paramref name="crc"/>; <paramref name="trace"/>
    /// is the span of the request that brought it (a grain call does not carry <see cref="Activity.Current"/>), so the
    /// writer's span joins the request's trace.
    /// </summary>
    public LocalBatch(ReadOnlySequence<byte> body, int messages, uint crc, ActivityContext trace = default)
    {
        _body = body;
        _isLocal = true;
        _trace = trace;
        Messages = messages;
        Crc = crc;
    }

    /// <summary>The span of the request that brought the batch (default when none was recorded).</summary>
    public ActivityContext Trace => _trace;

    /// <summary>Whole messages, each ending in '\n'.</summary>
    public ReadOnlySequence<byte> Body => _body;

    /// <summary>How many messages <see cref="Body"/> holds.</summary>
    [Id(0)]
    public int Messages { get; }

    /// <summary>CRC-32C of <see cref="Body"/>, computed while it was validated.</summary>
    [Id(1)]
    public uint Crc { get; }

    /// <summary>False on a copy made by the serializer (a call from another process): such a copy carries no bytes.</summary>
    public bool IsLocal => _isLocal;
}
