namespace OrleansBus.Silo.Api;

/// <summary>
/// The chukcha-compatible API, so an unchanged chukcha client (github.com/YuriyNasretdinov/chukcha, client/raw.go
/// and client/simple.go) works against any silo. Parameters are query strings, as chukcha's client sends them:
/// <list type="bullet">
/// <item><c>POST /write?category=</c> with newline-terminated messages as the body: validated and appended exactly as
/// <c>POST /v1/categories/{c}/messages</c>; 200 with an empty body (chukcha's reply), where it landed in the
/// <c>Bus-Chunk</c>/<c>Bus-Offset</c> headers. <c>min_sync_replicas</c> above 0 is refused, nothing written, until
/// silos replicate.</item>
/// <item><c>GET /read?category=&amp;chunk=&amp;off=&amp;max_size=</c> (<c>maxSize</c> from early clients too): the raw
/// bytes, cut to the last newline; empty at the chunk's end, which chukcha's client takes as "read it all".</item>
/// <item><c>GET /ack?category=&amp;chunk=&amp;size=</c> (GET, as chukcha's client sends it; POST too): acknowledges a
/// complete chunk, read to exactly its size, for the consumer group <c>chukcha</c>. chukcha deletes the chunk; here the
/// data stays until retention and <c>/listChunks</c> hides it.</item>
/// <item><c>GET /listChunks?category=</c>: <c>[{"name","complete","size"}]</c> by name, without chunks the group
/// <c>chukcha</c> is done with; <c>[]</c> for a category that does not exist yet (chukcha lists an empty one).</item>
/// <item><c>GET /listCategories</c>: the category names as a JSON array.</item>
/// </list>
/// Errors are problem+json like the rest of the API; chukcha's client only tells 200 from the rest, and 404 on
/// <c>/read</c> ("not here yet") from other errors.
/// </summary>
public static class ChukchaApi
{
    public static void MapChukchaApi(this IEndpointRouteBuilder app)
    {
        app.MapPost("/write", ChukchaEndpoints.WriteAsync);
        app.MapGet("/read", ChukchaEndpoints.ReadAsync);
        app.MapMethods("/ack", [HttpMethods.Get, HttpMethods.Post], ChukchaEndpoints.AckAsync);
        app.MapGet("/listChunks", ChukchaEndpoints.ListChunksAsync);
        app.MapGet("/listCategories", ChukchaEndpoints.ListCategories);
    }
}
