using System.Buffers.Text;
using System.Text;

namespace OrleansBus.Benchmarks.Compare;

/// <summary>
/// The few parts of RESP2 this benchmark needs, on a <see cref="WireConnection"/>: commands as arrays of bulk
/// strings, and replies read as they arrive. An error reply (<c>-ERR ...</c>) throws <see cref="RespException"/>.
/// </summary>
internal static class Resp
{
    public static void Command(WireConnection c, params string[] args)
    {
        BeginCommand(c, args.Length);
        foreach (var a in args)
            Arg(c, Encoding.UTF8.GetBytes(a));
    }

    public static void BeginCommand(WireConnection c, int args)
    {
        c.Write("*"u8);
        c.Write(args);
        c.Write("\r\n"u8);
    }

    public static void Arg(WireConnection c, ReadOnlySpan<byte> value)
    {
        c.Write("$"u8);
        c.Write(value.Length);
        c.Write("\r\n"u8);
        c.Write(value);
        c.Write("\r\n"u8);
    }

    /// <summary>The type byte and the rest of the reply's first line.</summary>
    public static (byte Type, long Number) ReadHeader(WireConnection c)
    {
        var line = c.ReadLine();
        if (line.IsEmpty)
            throw new RespException("empty reply line");
        if (line[0] == (byte)'-')
            throw new RespException(Encoding.UTF8.GetString(line[1..]));
        if (line[0] is (byte)'+')
            return ((byte)'+', 0);
        if (!Utf8Parser.TryParse(line[1..], out long number, out var used) || used != line.Length - 1)
            throw new RespException($"bad reply line '{Encoding.UTF8.GetString(line)}'");
        return (line[0], number);
    }

    public static long ReadInteger(WireConnection c) =>
        ReadHeader(c) is ((byte)':', var n) ? n : throw new RespException("expected an integer reply");

    /// <summary>A bulk string's bytes (valid until the next read); throws on a null or a non-bulk reply.</summary>
    public static ReadOnlySpan<byte> ReadBulk(WireConnection c)
    {
        var (type, length) = ReadHeader(c);
        if (type != '$' || length < 0)
            throw new RespException($"expected a bulk string, got '{(char)type}' {length}");
        return c.ReadExact((int)length + 2)[..(int)length];
    }

    /// <summary>An array's length; -1 for the null array (a blocking read that timed out).</summary>
    public static long ReadArray(WireConnection c) =>
        ReadHeader(c) is ((byte)'*', var n) ? n : throw new RespException("expected an array reply");

    /// <summary>Reads and discards one whole reply of any type, nested arrays included.</summary>
    public static void Skip(WireConnection c)
    {
        var (type, n) = ReadHeader(c);
        if (type == '$' && n >= 0)
            c.ReadExact((int)n + 2);
        else if (type == '*')
        {
            for (var i = 0; i < n; i++)
                Skip(c);
        }
    }
}

internal sealed class RespException(string message) : Exception("redis: " + message);
