using System.Text;

namespace OrleansBus.Benchmarks.Compare;

/// <summary>
/// A Redis consumer-group member: <c>XREADGROUP GROUP g c COUNT n [BLOCK ms] STREAMS key &gt;</c>, each entry handed
/// to the sink, then one <c>XACK key g id...</c> for the whole reply (the reply must say all were acknowledged).
/// </summary>
internal sealed class RedisConsumer(WireConnection connection, string stream, string group, string consumer) : IConsumerClient
{
    private readonly byte[] _key = Encoding.UTF8.GetBytes(stream), _group = Encoding.UTF8.GetBytes(group), _consumer = Encoding.UTF8.GetBytes(consumer);
    private byte[] _ids = new byte[1 << 16]; // the delivered entry ids, back to back, for the XACK
    private int[] _idLengths = new int[1024];

    public int FetchAndAck(int maxMessages, int maxBytes, int waitMs, MessageSink sink)
    {
        Resp.BeginCommand(connection, waitMs > 0 ? 11 : 9);
        Resp.Arg(connection, "XREADGROUP"u8);
        Resp.Arg(connection, "GROUP"u8);
        Resp.Arg(connection, _group);
        Resp.Arg(connection, _consumer);
        Resp.Arg(connection, "COUNT"u8);
        Resp.Arg(connection, Encoding.ASCII.GetBytes(maxMessages.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        if (waitMs > 0) // BLOCK 0 would wait for ever
        {
            Resp.Arg(connection, "BLOCK"u8);
            Resp.Arg(connection, Encoding.ASCII.GetBytes(waitMs.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        }
        Resp.Arg(connection, "STREAMS"u8);
        Resp.Arg(connection, _key);
        Resp.Arg(connection, ">"u8);
        connection.Flush();
        if (Resp.ReadArray(connection) <= 0)
            return 0; // null array: nothing arrived within BLOCK
        Resp.ReadArray(connection); // [key, entries]
        Resp.ReadBulk(connection);
        var entries = (int)Resp.ReadArray(connection);
        if (_idLengths.Length < entries)
            _idLengths = new int[entries];
        var idBytes = 0;
        for (var i = 0; i < entries; i++)
        {
            Resp.ReadArray(connection); // [id, [field, value]]
            var id = Resp.ReadBulk(connection);
            if (idBytes + id.Length > _ids.Length)
                Array.Resize(ref _ids, _ids.Length * 2);
            id.CopyTo(_ids.AsSpan(idBytes));
            (idBytes, _idLengths[i]) = (idBytes + id.Length, id.Length);
            if (Resp.ReadArray(connection) != 2)
                throw new RespException("an entry without exactly one field");
            Resp.ReadBulk(connection);
            sink(Resp.ReadBulk(connection));
        }
        Resp.BeginCommand(connection, 3 + entries);
        Resp.Arg(connection, "XACK"u8);
        Resp.Arg(connection, _key);
        Resp.Arg(connection, _group);
        for (int i = 0, at = 0; i < entries; at += _idLengths[i], i++)
            Resp.Arg(connection, _ids.AsSpan(at, _idLengths[i]));
        connection.Flush();
        var acked = Resp.ReadInteger(connection);
        return acked == entries ? entries : throw new RespException($"XACK acknowledged {acked} of {entries} entries");
    }

    public void Dispose() => connection.Dispose();
}
