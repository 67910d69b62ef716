using System.Diagnostics;
using OrleansBus.Client;

namespace OrleansBus.Cli;

/// <summary>
/// A progress line on stderr while a produce runs: lines read, acknowledged, bytes and rate. On a terminal one line
/// is redrawn in place four times a second; otherwise (<c>--progress</c> into a file or pipe) one line per second.
/// </summary>
internal sealed class ProduceProgress : IDisposable
{
    private readonly BusProducer _producer;
    private readonly bool _live;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly Timer _timer;
    private readonly Lock _lock = new();
    private long _linesRead;
    private bool _finished;
    private bool _drawn;

    public ProduceProgress(BusProducer producer, bool live)
    {
        _producer = producer;
        _live = live;
        var period = live ? TimeSpan.FromMilliseconds(250) : TimeSpan.FromSeconds(1);
        _timer = new Timer(_ => Write(final: false), null, period, period);
    }

    public void LineRead() => Interlocked.Increment(ref _linesRead);

    /// <summary>Writes the final line (with a newline) and stops the updates.</summary>
    public void Finish() => Write(final: true);

    /// <summary>Stops the updates; ends a redrawn line that <see cref="Finish"/> did not, so an error message starts on its own line.</summary>
    public void Dispose()
    {
        _timer.Dispose();
        lock (_lock)
        {
            if (_live && _drawn && !_finished)
                Console.Error.WriteLine();
            _finished = true;
        }
    }

    private void Write(bool final)
    {
        lock (_lock)
        {
            if (_finished)
                return;
            _finished = final;
            var seconds = Math.Max(_clock.Elapsed.TotalSeconds, 0.001);
            var acknowledged = _producer.AcknowledgedMessages;
            var text = $"obus: {Interlocked.Read(ref _linesRead):N0} lines read, {acknowledged:N0} acknowledged "
                + $"({Mebibytes(_producer.AcknowledgedBytes)} MiB in {_producer.AcknowledgedBatches:N0} batches), "
                + $"{acknowledged / seconds:N0} msg/s, {seconds:0.0} s";
            _drawn = true;
            if (_live)
                Console.Error.Write("\r" + text + "\u001b[K" + (final ? "\n" : ""));
            else
                Console.Error.WriteLine(text);
        }
    }

    private static string Mebibytes(long bytes) => (bytes / (1024.0 * 1024.0)).ToString("0.0", System.Globalization.CultureInfo.InvariantCulture);
}
