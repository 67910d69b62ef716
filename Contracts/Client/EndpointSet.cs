namespace OrleansBus.Client;

/// <summary>
/// The client's endpoints and which one to try first: the last that answered. Thread safe: the current index
/// is a single int written with release semantics; two requests that fail over at once may both move it, and the
/// last to succeed wins, which is fine because any live endpoint serves any request.
/// </summary>
internal sealed class EndpointSet
{
    private readonly Uri[] _endpoints;
    private int _current;

    public EndpointSet(IEnumerable<Uri> endpoints)
    {
        var list = new List<Uri>();
        foreach (var endpoint in endpoints)
        {
            // A trailing slash makes relative paths resolve under the endpoint's own path (a gateway at /bus/).
            var text = endpoint.ToString();
            list.Add(text.EndsWith('/') ? endpoint : new Uri(text + "/"));
        }
        _endpoints = [.. list];
    }

    public int Count => _endpoints.Length;

    public IReadOnlyList<Uri> All => _endpoints;

    public Uri this[int index] => _endpoints[index];

    /// <summary>Index of the endpoint to try first.</summary>
    public int Current => Volatile.Read(ref _current);

    /// <summary>Remembers the endpoint that just answered, so the next request starts there.</summary>
    public void MarkGood(int index) => Volatile.Write(ref _current, index);
}
