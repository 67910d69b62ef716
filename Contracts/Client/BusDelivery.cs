using System.Text;

namespace OrleansBus.Client;

/// <summary>
/// A leased range of one chunk, handed to one consumer of a group by a poll: the messages, where they are, and the
/// lease. Settle it before <see cref="LeaseExpiresAt"/> with <see cref="AckAsync(CancellationToken)"/> (done: the group
/// moves past it) or <see cref="NackAsync"/> (give it back); otherwise it is redelivered after the lease expires.
/// Not thread safe: one consumer settles it.
/// </summary>
public sealed class BusDelivery
{
    private readonly IDeliverySettler _client;
    private readonly int _endpoint;
    private readonly byte[] _body;
    private readonly int[] _ends;
    private ReadOnlyMemory<byte>[]? _messages;
    private string[]? _strings;
    private long _ackedOffset;

    internal BusDelivery(IDeliverySettler client, int endpoint, string category, string group, string token, string chunk,
        long offset, long nextOffset, DateTimeOffset leaseExpiresAt, int deliveryCount, byte[] body)
    {
        _client = client;
        _endpoint = endpoint;
        Category = category;
        Group = group;
        Token = token;
        Chunk = chunk;
        Offset = offset;
        NextOffset = nextOffset;
        LeaseExpiresAt = leaseExpiresAt;
        DeliveryCount = deliveryCount;
        _body = body;
        _ackedOffset = offset;
        _ends = MessageEnds(body);
    }

    /// <summary>The category the messages belong to.</summary>
    public string Category { get; }

    /// <summary>The consumer group this delivery is leased to.</summary>
    public string Group { get; }

    /// <summary>The opaque delivery token (<c>Bus-Delivery</c>) that acks and nacks carry.</summary>
    public string Token { get; }

    /// <summary>The chunk the messages come from.</summary>
    public string Chunk { get; }

    /// <summary>Byte offset of the first message in the chunk.</summary>
    public long Offset { get; }

    /// <summary>Byte offset after the last message: where the group stands once this delivery is acknowledged.</summary>
    public long NextOffset { get; }

    /// <summary>When the lease ends; settle before then.</summary>
    public DateTimeOffset LeaseExpiresAt { get; }

    /// <summary>How many times this range has been delivered, this time included (1 the first time).</summary>
    public int DeliveryCount { get; }

    /// <summary>The raw body: the messages, each followed by <c>\n</c>, exactly as stored.</summary>
    public ReadOnlyMemory<byte> Body => _body;

    /// <summary>Number of messages.</summary>
    public int Count => _ends.Length;

    /// <summary>The messages, without their newlines (slices of <see cref="Body"/>, no copies).</summary>
    public IReadOnlyList<ReadOnlyMemory<byte>> Messages => _messages ??= Slice();

    /// <summary>The messages decoded as UTF-8 (decoded on first use).</summary>
    public IReadOnlyList<string> MessageStrings
    {
        get
        {
            if (_strings is null)
            {
                var strings = new string[_ends.Length];
                for (var i = 0; i < strings.Length; i++)
                    strings[i] = GetString(i);
                _strings = strings;
            }
            return _strings;
        }
    }

    /// <summary>True once the delivery is fully acknowledged or released.</summary>
    public bool IsSettled { get; private set; }

    /// <summary>Message <paramref name="index"/> decoded as UTF-8.</summary>
    public string GetString(int index)
    {
        var start = index == 0 ? 0 : _ends[index - 1] + 1;
        return Encoding.UTF8.GetString(_body, start, _ends[index] - start);
    }

    /// <summary>The chunk offset just after message <paramref name="index"/> (its newline included): what to pass to <see cref="AckAsync(long, CancellationToken)"/> to acknowledge it and every message before it.</summary>
    public long GetEndOffset(int index) => Offset + _ends[index] + 1;

    /// <summary>Acknowledges the whole delivery (whatever a partial ack left): the group moves past it.</summary>
    /// <exception cref="BusLeaseLostException">The lease expired and the range may have gone to another consumer, or the delivery was settled already.</exception>
    public async Task AckAsync(CancellationToken cancellationToken = default)
    {
        await _client.SettleAsync(this, _endpoint, "ack", null, TimeSpan.Zero, null, cancellationToken);
        _ackedOffset = NextOffset;
        IsSettled = true;
    }

    /// <summary>
    /// Acknowledges up to <paramref name="offset"/>, a message boundary inside the delivery (see <see cref="GetEndOffset"/>);
    /// the rest stays leased to this consumer. Acknowledging up to <see cref="NextOffset"/> settles the delivery.
    /// </summary>
    /// <exception cref="BusLeaseLostException">The lease was lost.</exception>
    /// <exception cref="BusException">Code <c>invalid_argument</c>: the offset is not a message boundary after the acknowledged part.</exception>
    public async Task AckAsync(long offset, CancellationToken cancellationToken = default)
    {
        await _client.SettleAsync(this, _endpoint, "ack", offset, TimeSpan.Zero, null, cancellationToken);
        _ackedOffset = offset;
        IsSettled = offset >= NextOffset;
    }

    /// <summary>
    /// Gives the unacknowledged part of the delivery back: another poll may take it after <paramref name="delay"/>,
    /// with its delivery count one higher. After the server's MaxDeliveries, its first message goes to the dead-letter category.
    /// </summary>
    /// <param name="delay">How long before it may be delivered again (zero: at once).</param>
    /// <param name="reason">Why, kept with a dead letter; at most 1000 characters.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <exception cref="BusLeaseLostException">The lease was lost.</exception>
    public async Task NackAsync(TimeSpan delay, string? reason = null, CancellationToken cancellationToken = default)
    {
        await _client.SettleAsync(this, _endpoint, "nack", null, delay, reason, cancellationToken);
        IsSettled = true;
    }

    /// <summary>The acknowledged position inside this delivery (<see cref="Offset"/> until an ack).</summary>
    public long AcknowledgedOffset => _ackedOffset;

    private static int[] MessageEnds(byte[] body)
    {
        var count = body.AsSpan().Count((byte)'\n');
        var ends = new int[count];
        var position = 0;
        for (var i = 0; i < count; i++)
        {
            position += body.AsSpan(position).IndexOf((byte)'\n');
            ends[i] = position;
            position++;
        }
        return ends;
    }

    private ReadOnlyMemory<byte>[] Slice()
    {
        var messages = new ReadOnlyMemory<byte>[_ends.Length];
        var start = 0;
        for (var i = 0; i < messages.Length; i++)
        {
            messages[i] = new ReadOnlyMemory<byte>(_body, start, _ends[i] - start);
            start = _ends[i] + 1;
        }
        return messages;
    }
}
