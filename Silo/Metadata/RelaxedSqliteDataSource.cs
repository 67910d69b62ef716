using System.Data.Common;
using Microsoft.Data.Sqlite;

namespace OrleansBus.Silo.Metadata;

/// <summary>
/// SQLite connections for the embedded silo's consumer-group state (Orleans' grain storage takes a
/// <see cref="DbDataSource"/>): each commits with <c>synchronous=NORMAL</c> on the WAL that the catalog's migration
/// switched on. A committed ack then survives the silo's crash (it is in the operating system's hands) but not a power
/// loss; one fdatasync per ack would cost a single consumer most of its throughput, and a lost ack is one redelivery,
/// which at-least-once allows. The catalog keeps <c>synchronous=FULL</c> (<see cref="SqliteMetadataStore"/>); a cluster's
/// groups live in PostgreSQL with its own, full, durability.
/// </summary>
public sealed class RelaxedSqliteDataSource(string connectionString) : DbDataSource
{
    public override string ConnectionString => connectionString;

    protected override DbConnection CreateDbConnection() => new RelaxedConnection(connectionString);

    private sealed class RelaxedConnection(string connectionString) : SqliteConnection(connectionString)
    {
        public override void Open()
        {
            base.Open();
            Relax();
        }

        public override async Task OpenAsync(CancellationToken cancellationToken)
        {
            await base.OpenAsync(cancellationToken);
            Relax();
        }

        // Cheap enough per open (a pooled native connection keeps it anyway, but a pool can hand out a fresh one).
        private void Relax()
        {
            using var pragma = CreateCommand();
            pragma.CommandText = "PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=30000;";
            pragma.ExecuteNonQuery();
        }
    }
}
