using System.Buffers;
using System.Diagnostics;
using System.Runtime.ExceptionServices;
using System.Text;
using OrleansBus.Contracts;

namespace OrleansBus.Client;

/// <summary>
/// Batches messages for one category on the client. <see cref="SendAsync(ReadOnlyMemory{byte}, CancellationToken)"/>
/// copies a message (plus its newline) into a pooled buffer; one background sender sends a batch when it reaches
/// <see cref="BusProducerOptions.MaxBatchBytes"/> or when its first message has waited
/// <see cref="BusProducerOptions.LingerTime"/>. Thread safe.
/// </summary>
/// <remarks>
/// <para><b>Order.</b> Batches are sent one at a time, in order, so messages from one producer are written in the
/// order they were sent (a batch never spans chunks).</para>
/// <para><b>Memory.</b> At most <see cref="BusProducerOptions.MaxPendingBytes"/> of messages are held (buffered, queued
/// or in flight); past that, sends wait for acknowledgements (back-pressure).</para>
/// <para><b>Acknowledgement.</b> <see cref="SendAsync(ReadOnlyMemory{byte}, CancellationToken)"/> completes once the
/// message is buffered; <see cref="SendAndWaitAsync(ReadOnlyMemory{byte}, CancellationToken)"/> once the batch that
/// carried it is acknowledged with the producer's durability; <see cref="FlushAsync"/> sends what is buffered and waits
/// for everything sent before it. If a batch fails, its messages are not retried (beyond the client's endpoint
/// failover, which is at-least-once): the next <c>SendAsync</c>, <c>FlushAsync</c> or <c>DisposeAsync</c> throws that
/// failure, once, unless every message of the batch was sent with <c>SendAndWaitAsync</c> (whose tasks report it).</para>
/// </remarks>
public sealed class BusProducer : IAsyncDisposable
{
    private readonly IBatchSender _client;
    private readonly Durability? _durability;
    private readonly int _maxBatchBytes;
    private readonly long _maxPendingBytes;
    private readonly long _lingerTicks;
    private readonly Lock _lock = new();
    private readonly Queue<Batch> _ready = new();
    private readonly SemaphoreSlim _wake = new(0);
    private readonly Task _sender;
    private Batch? _open;
    private Batch? _last;
    private long _pendingBytes;
    private TaskCompletionSource? _spaceFreed;
    private Exception? _error;
    private bool _wakeSignaled;
    private bool _closing;
    private long _acknowledgedMessages;
    private long _acknowledgedBatches;
    private long _acknowledgedBytes;
    private long _failedMessages;

    internal BusProducer(IBatchSender client, string category, BusProducerOptions options, Durability? durability)
    {
        _client = client;
        Category = category;
        _durability = durability;
        _maxBatchBytes = options.MaxBatchBytes;
        _maxPendingBytes = options.MaxPendingBytes;
        _lingerTicks = (long)(options.LingerTime.TotalSeconds * Stopwatch.Frequency);
        _sender = Task.Run(SendLoopAsync);
    }

    /// <summary>The category this producer writes to.</summary>
    public string Category { get; }

    /// <summary>Messages the server has acknowledged so far.</summary>
    public long AcknowledgedMessages => Interlocked.Read(ref _acknowledgedMessages);

    /// <summary>Batches (produce requests) the server has acknowledged so far.</summary>
    public long AcknowledgedBatches => Interlocked.Read(ref _acknowledgedBatches);

    /// <summary>Bytes (newlines included) the server has acknowledged so far.</summary>
    public long AcknowledgedBytes => Interlocked.Read(ref _acknowledgedBytes);

    /// <summary>Messages whose batch failed: they were not written (or not acknowledged).</summary>
    public long FailedMessages => Interlocked.Read(ref _failedMessages);

    /// <summary>Bytes held and not yet acknowledged: buffered, queued or in flight.</summary>
    public long PendingBytes
    {
        get
        {
            lock (_lock)
                return _pendingBytes;
        }
    }

    /// <summary>
    /// Appends a message to the current batch. Completes at once unless <see cref="BusProducerOptions.MaxPendingBytes"/>
    /// are pending, in which case it waits until acknowledgements free enough room.
    /// </summary>
    /// <param name="message">The message bytes, without a newline (one is added). Not used after the returned task completes.</param>
    /// <param name="cancellationToken">Cancels a wait for room; a message already buffered is still sent.</param>
    /// <exception cref="ArgumentException">The message contains <c>\n</c>.</exception>
    /// <exception cref="ObjectDisposedException">The producer is disposed.</exception>
    public ValueTask SendAsync(ReadOnlyMemory<byte> message, CancellationToken cancellationToken = default)
    {
        if (message.Span.Contains((byte)'\n'))
            throw NewlineInMessage(nameof(message));
        return Done(EnqueueAsync(message, null, message.Length + 1, watched: false, cancellationToken));
    }

    /// <summary>Appends a message, encoded as UTF-8, to the current batch.</summary>
    /// <inheritdoc cref="SendAsync(ReadOnlyMemory{byte}, CancellationToken)"/>
    public ValueTask SendAsync(string message, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (message.Contains('\n', StringComparison.Ordinal))
            throw NewlineInMessage(nameof(message));
        return Done(EnqueueAsync(default, message, Encoding.UTF8.GetByteCount(message) + 1, watched: false, cancellationToken));
    }

    /// <summary>
    /// Appends a message and completes when the batch that carries it is acknowledged with the producer's durability.
    /// Waits up to <see cref="BusProducerOptions.LingerTime"/> for other messages to share the batch.
    /// </summary>
    /// <param name="message">The message bytes, without a newline.</param>
    /// <param name="cancellationToken">Cancels the wait; the message may still be sent.</param>
    /// <returns>The acknowledgement of the whole batch (its chunk, offset, length and message count).</returns>
    /// <exception cref="ArgumentException">The message contains <c>\n</c>.</exception>
    public async Task<ProduceResult> SendAndWaitAsync(ReadOnlyMemory<byte> message, CancellationToken cancellationToken = default)
    {
        if (message.Span.Contains((byte)'\n'))
            throw NewlineInMessage(nameof(message));
        var batch = await EnqueueAsync(message, null, message.Length + 1, watched: true, cancellationToken);
        return await batch.Completion.Task.WaitAsync(cancellationToken);
    }

    /// <summary>Appends a UTF-8 message and completes when its batch is acknowledged.</summary>
    /// <inheritdoc cref="SendAndWaitAsync(ReadOnlyMemory{byte}, CancellationToken)"/>
    public async Task<ProduceResult> SendAndWaitAsync(string message, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (message.Contains('\n', StringComparison.Ordinal))
            throw NewlineInMessage(nameof(message));
        var batch = await EnqueueAsync(default, message, Encoding.UTF8.GetByteCount(message) + 1, watched: true, cancellationToken);
        return await batch.Completion.Task.WaitAsync(cancellationToken);
    }

    /// <summary>
    /// Sends the current batch without waiting for the linger time, and completes when every message sent before
    /// this call is acknowledged.
    /// </summary>
    /// <exception cref="BusException">A batch failed since the last failure was reported; its messages were not written.</exception>
    public async Task FlushAsync(CancellationToken cancellationToken = default)
    {
        Batch? last;
        lock (_lock)
        {
            if (_open is not null)
                SealOpenLocked();
            last = _last;
        }
        if (last is not null)
            await ((Task)last.Completion.Task).WaitAsync(cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        cancellationToken.ThrowIfCancellationRequested();
        ThrowPendingError();
    }

    /// <summary>Sends everything still buffered, waits for its acknowledgement, and stops the sender.</summary>
    /// <exception cref="BusException">A batch failed and the failure was not reported yet.</exception>
    public async ValueTask DisposeAsync()
    {
        bool first;
        lock (_lock)
        {
            first = !_closing;
            if (first)
            {
                _closing = true;
                SignalLocked();
            }
        }
        await _sender;
        if (!first)
            return;
        _client.Forget(this);
        _wake.Dispose();
        ThrowPendingError();
    }

    private static ArgumentException NewlineInMessage(string parameter) =>
        new("A message must not contain '\\n': the newline ends a message on the wire. Escape it (for example as JSON) or send the lines as separate messages.", parameter);

    private static ValueTask Done(ValueTask<Batch> pending) =>
        pending.IsCompletedSuccessfully ? default : new ValueTask(pending.AsTask());

    private ValueTask<Batch> EnqueueAsync(ReadOnlyMemory<byte> bytes, string? text, int size, bool watched, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            ThrowIfUnusableLocked();
            if (HasRoomLocked(size))
                return new ValueTask<Batch>(AppendLocked(bytes, text, size, watched));
        }
        return EnqueueSlowAsync(bytes, text, size, watched, cancellationToken);
    }

    private async ValueTask<Batch> EnqueueSlowAsync(ReadOnlyMemory<byte> bytes, string? text, int size, bool watched, CancellationToken cancellationToken)
    {
        while (true)
        {
            Task freed;
            lock (_lock)
            {
                ThrowIfUnusableLocked();
                if (HasRoomLocked(size))
                    return AppendLocked(bytes, text, size, watched);
                // Room comes only from acknowledgements; a lingering batch would hold them back.
                if (_open is not null)
                    SealOpenLocked();
                freed = (_spaceFreed ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;
            }
            await freed.WaitAsync(cancellationToken);
        }
    }

    /// <summary>Room for one more message: always when nothing is pending (a message larger than the limit still goes, alone).</summary>
    private bool HasRoomLocked(int size) => _pendingBytes == 0 || _pendingBytes + size <= _maxPendingBytes;

    private Batch AppendLocked(ReadOnlyMemory<byte> bytes, string? text, int size, bool watched)
    {
        if (_open is not null && _open.Length + size > _maxBatchBytes)
            SealOpenLocked();
        if (_open is null)
        {
            _open = new Batch(ArrayPool<byte>.Shared.Rent(Math.Max(_maxBatchBytes, size)), Stopwatch.GetTimestamp() + _lingerTicks);
            SignalLocked(); // the sender starts the linger clock
        }
        var batch = _open;
        var target = batch.Buffer.AsSpan(batch.Length, size);
        if (text is null)
            bytes.Span.CopyTo(target);
        else
            Encoding.UTF8.GetBytes(text, target);
        target[^1] = (byte)'\n';
        batch.Length += size;
        batch.Messages++;
        if (!watched)
            batch.UnwatchedMessages++;
        _pendingBytes += size;
        if (batch.Length >= _maxBatchBytes)
            SealOpenLocked();
        return batch;
    }

    private void SealOpenLocked()
    {
        _ready.Enqueue(_open!);
        _last = _open;
        _open = null;
        SignalLocked();
    }

    private void SignalLocked()
    {
        if (_wakeSignaled)
            return;
        _wakeSignaled = true;
        _wake.Release();
    }

    private void ThrowIfUnusableLocked()
    {
        ObjectDisposedException.ThrowIf(_closing, this);
        if (_error is { } error)
        {
            _error = null;
            ExceptionDispatchInfo.Throw(error);
        }
    }

    private void ThrowPendingError()
    {
        Exception? error;
        lock (_lock)
        {
            error = _error;
            _error = null;
        }
        if (error is not null)
            ExceptionDispatchInfo.Throw(error);
    }

    /// <summary>The one sender: full batches first, then the open batch once its linger time is up (or at once when closing).</summary>
    private async Task SendLoopAsync()
    {
        while (true)
        {
            Batch? batch = null;
            var wait = Timeout.InfiniteTimeSpan;
            lock (_lock)
            {
                _wakeSignaled = false;
                if (!_ready.TryDequeue(out batch) && _open is not null)
                {
                    var remaining = _open.Deadline - Stopwatch.GetTimestamp();
                    if (remaining <= 0 || _closing)
                    {
                        batch = _open;
                        _last = batch;
                        _open = null;
                    }
                    else
                    {
                        wait = TimeSpan.FromMilliseconds(Math.Max(1, Math.Ceiling(remaining * 1000.0 / Stopwatch.Frequency)));
                    }
                }
                if (batch is null && _open is null && _closing)
                    return;
            }
            if (batch is null)
            {
                await _wake.WaitAsync(wait);
                continue;
            }
            await SendBatchAsync(batch);
        }
    }

    private async Task SendBatchAsync(Batch batch)
    {
        try
        {
            var result = await _client.ProduceAsync(Category, batch.Buffer.AsMemory(0, batch.Length), _durability, CancellationToken.None);
            Interlocked.Add(ref _acknowledgedMessages, batch.Messages);
            Interlocked.Add(ref _acknowledgedBytes, batch.Length);
            Interlocked.Increment(ref _acknowledgedBatches);
            Release(batch);
            batch.Completion.TrySetResult(result);
        }
#pragma warning disable CA1031 // Any failure of a batch is reported to its senders; the sender loop must survive it.
        catch (Exception e)
#pragma warning restore CA1031
        {
            Interlocked.Add(ref _failedMessages, batch.Messages);
            lock (_lock)
            {
                if (batch.UnwatchedMessages > 0)
                    _error ??= e;
            }
            Release(batch);
            batch.Completion.TrySetException(e);
            _ = batch.Completion.Task.Exception; // observed here; reported through the waiters and _error
        }
    }

    private void Release(Batch batch)
    {
        TaskCompletionSource? freed;
        lock (_lock)
        {
            _pendingBytes -= batch.Length;
            freed = _spaceFreed;
            _spaceFreed = null;
        }
        ArrayPool<byte>.Shared.Return(batch.Buffer);
        freed?.TrySetResult();
    }

    /// <summary>One produce request in the making: a pooled buffer of whole messages, and who waits for it.</summary>
    private sealed class Batch(byte[] buffer, long deadline)
    {
        public byte[] Buffer { get; } = buffer;
        public long Deadline { get; } = deadline;
        public int Length { get; set; }
        public int Messages { get; set; }
        public int UnwatchedMessages { get; set; }
        public TaskCompletionSource<ProduceResult> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
