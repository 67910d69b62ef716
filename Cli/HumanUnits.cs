using System.Globalization;

namespace OrleansBus.Cli;

/// <summary>
/// Sizes and durations as people write them: <c>10GiB</c>, <c>64MiB</c>, <c>500KB</c>, <c>4096</c> (bytes); <c>7d</c>,
/// <c>12h</c>, <c>30m</c>, <c>45s</c>, <c>500ms</c>. Binary units (KiB, MiB, GiB, TiB) are powers of 1024, decimal ones
/// (kB/KB, MB, GB, TB) powers of 1000. <c>0</c>, <c>none</c> and <c>forever</c> mean "no limit" where a limit may be off.
/// </summary>
internal static class HumanUnits
{
    private static readonly (string Suffix, long Factor)[] Sizes =
    [
        ("KiB", 1L << 10), ("MiB", 1L << 20), ("GiB", 1L << 30), ("TiB", 1L << 40),
        ("kB", 1_000), ("KB", 1_000), ("MB", 1_000_000), ("GB", 1_000_000_000), ("TB", 1_000_000_000_000), ("B", 1),
    ];

    private static readonly (string Suffix, long Milliseconds)[] Durations =
    [
        ("ms", 1), ("s", 1_000), ("m", 60_000), ("h", 3_600_000), ("d", 86_400_000), ("w", 604_800_000),
    ];

    /// <summary>Bytes; throws <see cref="UsageException"/> naming <paramref name="option"/> for anything else.</summary>
    public static long Bytes(string text, string option, bool noneAllowed = false)
    {
        if (noneAllowed && IsNone(text))
            return 0;
        var (number, suffix) = Split(text);
        var factor = suffix.Length == 0 ? 1 : Sizes.FirstOrDefault(s => s.Suffix == suffix).Factor;
        if (factor == 0 || !TryScale(number, factor, out var bytes))
            throw new UsageException($"{option}: '{text}' is not a size such as 64MiB, 10GiB, 500MB or 4096 (bytes){(noneAllowed ? ", or none" : "")}.");
        return bytes;
    }

    /// <summary>Milliseconds; throws <see cref="UsageException"/> naming <paramref name="option"/> for anything else.</summary>
    public static long Milliseconds(string text, string option, bool noneAllowed = false)
    {
        if (noneAllowed && IsNone(text))
            return 0;
        var (number, suffix) = Split(text);
        var factor = Durations.FirstOrDefault(d => d.Suffix == suffix).Milliseconds;
        if (factor == 0 || !TryScale(number, factor, out var ms))
            throw new UsageException($"{option}: '{text}' is not a duration such as 7d, 12h, 30m, 45s or 500ms{(noneAllowed ? ", or forever" : "")}.");
        return ms;
    }

    private static bool IsNone(string text) => text is "0" or "none" or "forever";

    private static (string Number, string Suffix) Split(string text)
    {
        text = text.Trim();
        var end = 0;
        while (end < text.Length && (char.IsAsciiDigit(text[end]) || text[end] == '.'))
            end++;
        return (text[..end], text[end..].Trim());
    }

    // Whole results only, no negatives, no overflow: 1.5GiB is fine, 0.1B is not.
    private static bool TryScale(string number, long factor, out long result)
    {
        result = 0;
        if (!decimal.TryParse(number, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var value) || value < 0)
            return false;
        try
        {
            var scaled = value * factor;
            if (scaled != decimal.Truncate(scaled) || scaled > long.MaxValue)
                return false;
            result = (long)scaled;
            return true;
        }
        catch (OverflowException)
        {
            return false;
        }
    }
}
