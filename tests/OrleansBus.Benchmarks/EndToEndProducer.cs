using System.Buffers;
using System.Buffers.Text;
using System.Diagnostics;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using OrleansBus.Contracts;

namespace OrleansBus.Benchmarks;

/// <summary>
/// The end-to-end phase's producer: one thread keeps an absolute schedule of single-message produce requests,
/// each message "&lt;12-digit sequence&gt; &lt;19-digit Stopwatch timestamp&gt; filler\n" stamped as it is sent.
/// It starts each send on time without waiting for the previous reply (open loop): up to
/// <see cref="MaxInFlight"/> may be outstanding, so one slow request neither delays the schedule nor hides the
/// latency of the messages behind it. Only when all are outstanding does it wait for the oldest; it never
/// bursts more than <see cref="MaxCatchUp"/> to catch up: beyond that the schedule slips. It is a dedicated
/// thread with blocking waits because a thread's timed wait wakes within about 0.1 ms, while Task.Delay rides
/// the timer queue (about 4 ms late on the 2-core test machine). The loop ends after a fixed number of sends.
/// </summary>
internal sealed class EndToEndProducer(BenchOptions options, string category, long planned)
{
    public const int TimestampDigits = 19, MaxInFlight = 32;
    private static readonly StandardFormat SequenceFormat = new('D', ProducePhase.SequenceDigits), TimestampFormat = new('D', TimestampDigits);
    private static readonly TimeSpan MaxCatchUp = TimeSpan.FromMilliseconds(5);
    private static readonly MediaTypeHeaderValue OctetStream = new("application/octet-stream");

    private Sender[] _senders = [];
    private long _acked, _doneAt, _slippedTicks;

    /// <summary>Messages the silo has acknowledged so far.</summary>
    public long Acked => Volatile.Read(ref _acked);
    /// <summary>Stopwatch timestamp when the last send finished; 0 while producing.</summary>
    public long DoneAt => Volatile.Read(ref _doneAt);
    public double SlippedMs => Volatile.Read(ref _slippedTicks) * 1000.0 / Stopwatch.Frequency;
    public LatencySummary RequestLatency => LatencyRecorder.Summarize(Array.ConvertAll(_senders, s => s.Latency));

    /// <summary>A <see cref="PhaseRunner.Worker"/> but for the client: adds what was acknowledged to <paramref name="totals"/>.</summary>
    public Task RunAsync(HttpClient client, WorkerCounters totals, FirstFailure failure) =>
        Task.Factory.StartNew(() => Run(client, totals, failure), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    private void Run(HttpClient client, WorkerCounters totals, FirstFailure failure)
    {
        var uri = new Uri(options.Url, $"v1/categories/{category}/messages?{options.ProduceQuery}");
        _senders = new Sender[MaxInFlight];
        for (var i = 0; i < _senders.Length; i++)
            _senders[i] = new Sender(this, client, uri, options.MessageBytes, planned / MaxInFlight + 1);
        var (interval, maxLag) = (Stopwatch.Frequency / (double)options.Rate, (long)(MaxCatchUp.TotalSeconds * Stopwatch.Frequency));
        var origin = Stopwatch.GetTimestamp();
        try
        {
            for (var sequence = 0L; sequence < planned && !failure.Token.IsCancellationRequested; sequence++)
            {
                var sender = _senders[sequence % MaxInFlight]; // round robin: its previous send is the oldest outstanding
                sender.Pending.Wait(); // never faults: PhaseRunner.RunOneAsync reports instead
                var (due, now) = (origin + (long)(sequence * interval), Stopwatch.GetTimestamp());
                if (now - due > maxLag)
                {
                    origin += now - due - maxLag; // too far behind: slip the schedule rather than burst
                    _slippedTicks += now - due - maxLag;
                }
                // Whole-millisecond waits rounded to the nearest keep each send within about ±0.5 ms of its time.
                else if ((int)Math.Round((due - now) * 1000.0 / Stopwatch.Frequency) is > 0 and var waitMs && failure.Token.WaitHandle.WaitOne(waitMs))
                    break; // another worker failed, or the user interrupted
                sender.Start(sequence, failure);
            }
        }
        finally
        {
            foreach (var sender in _senders)
            {
                sender.Pending.Wait();
                totals.Add(sender.Counters);
            }
            Volatile.Write(ref _doneAt, Stopwatch.GetTimestamp());
        }
    }

    /// <summary>One in-flight slot: its own message buffer (reused only once its send finished), counters and latencies.</summary>
    private sealed class Sender
    {
        private readonly EndToEndProducer _owner;
        private readonly HttpClient _client;
        private readonly Uri _uri;
        private readonly byte[] _body;
        private readonly PhaseRunner.Worker _send; // cached: no delegate allocation per message
        private long _sequence, _sentAt;

        public Sender(EndToEndProducer owner, HttpClient client, Uri uri, int messageBytes, long expectedSends)
        {
            (_owner, _client, _uri, _send) = (owner, client, uri, SendAsync);
            _body = new byte[messageBytes];
            for (var i = 0; i < _body.Length; i++)
                _body[i] = (byte)('a' + i % 26);
            (_body[ProducePhase.SequenceDigits], _body[ProducePhase.SequenceDigits + 1 + TimestampDigits], _body[^1]) = ((byte)' ', (byte)' ', (byte)'\n');
            Latency = new LatencyRecorder((int)expectedSends);
        }

        public WorkerCounters Counters { get; } = new();
        public LatencyRecorder Latency { get; }
        public Task Pending { get; private set; } = Task.CompletedTask;

        public void Start(long sequence, FirstFailure failure)
        {
            _sequence = sequence;
            Utf8Formatter.TryFormat(sequence, _body.AsSpan(0, ProducePhase.SequenceDigits), out _, SequenceFormat);
            _sentAt = Stopwatch.GetTimestamp();
            Utf8Formatter.TryFormat(_sentAt, _body.AsSpan(ProducePhase.SequenceDigits + 1, TimestampDigits), out _, TimestampFormat);
            Pending = PhaseRunner.RunOneAsync("e2e produce", _send, Counters, Latency, failure);
        }

        private async Task SendAsync(WorkerCounters counters, LatencyRecorder latency, FirstFailure failure)
        {
            var content = new ByteArrayContent(_body);
            content.Headers.ContentType = OctetStream;
            using var response = await ConsumePhase.SendAsync(_client, _uri, content, failure.Token);
            var ack = response.IsSuccessStatusCode ? await response.Content.ReadFromJsonAsync(BenchJsonContext.Default.ProduceResult, failure.Token) : null;
            if (ack is null || ack.Messages != 1 || ack.Length != _body.Length)
            {
                failure.Report(ack is null ? await FirstFailure.DescribeAsync(response, $"produce {_sequence}", failure.Token)
                    : $"produce {_sequence}: acknowledged {ack.Messages} messages / {ack.Length} bytes, sent 1 / {_body.Length}");
                return;
            }
            latency.Record(Stopwatch.GetTimestamp() - _sentAt);
            (counters.Requests, counters.Messages, counters.Bytes) = (counters.Requests + 1, counters.Messages + 1, counters.Bytes + _body.Length);
            Interlocked.Increment(ref _owner._acked);
        }
    }
}
