namespace OrleansBus.Silo.Metadata;

/// <summary>
/// The PostgreSQL tables and <c>OrleansQuery</c> rows that Orleans' ADO.NET clustering and grain persistence providers
/// need (and the SQLite ones for grain state in the embedded silo). Orleans ships
/// its scripts only in its source tree, and the provider reads every statement it runs from <c>OrleansQuery</c>
/// (<c>QueryKey</c>, <c>QueryText</c>; <c>@Name</c> parameters; result columns read by name), so the schema is ours and is
/// applied with the catalog's migrations, under the same advisory lock. Idempotent: tables are created if missing and
/// query texts are replaced, so a newer silo brings its own statements.
/// Membership rows are keyed by (cluster id, address, port, generation); the version row is the optimistic-concurrency
/// tag of the whole table: every insert or update checks and bumps it in one statement, so two silos changing the table
/// at once cannot both win.
/// </summary>
internal static class OrleansTables
{
    // Both membership reads return the version row even when no silo row matches (LEFT JOIN), so Orleans gets the version.
    private const string MembershipRows = """
        SELECT v.cluster_id AS "DeploymentId", m.address AS "Address", m.port AS "Port", m.generation AS "Generation",
               m.silo_name AS "SiloName", m.host_name AS "HostName", m.status AS "Status", m.proxy_port AS "ProxyPort",
               m.suspect_times AS "SuspectTimes", m.start_time AS "StartTime", m.i_am_alive_time AS "IAmAliveTime",
               v.version AS "Version"
        FROM orleans_membership_version v
        """;

    public const string Postgres =
        $$"""
        CREATE TABLE IF NOT EXISTS OrleansQuery (
            QueryKey  varchar(64) PRIMARY KEY,
            QueryText text NOT NULL);
        CREATE TABLE IF NOT EXISTS orleans_membership_version (
            cluster_id text PRIMARY KEY,
            version    int  NOT NULL DEFAULT 0,
            changed_at timestamptz NOT NULL DEFAULT now());
        CREATE TABLE IF NOT EXISTS orleans_membership (
            cluster_id      text NOT NULL,
            address         text NOT NULL,
            port            int  NOT NULL,
            generation      int  NOT NULL,
            silo_name       text NOT NULL,
            host_name       text NOT NULL,
            status          int  NOT NULL,
            proxy_port      int,
            suspect_times   text,
            start_time      timestamptz NOT NULL,
            i_am_alive_time timestamptz NOT NULL,
            PRIMARY KEY (cluster_id, address, port, generation));

        INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES
        ('InsertMembershipVersionKey', $q$
        WITH ins AS (
          INSERT INTO orleans_membership_version (cluster_id) VALUES (@DeploymentId)
          ON CONFLICT (cluster_id) DO NOTHING RETURNING 1)
        SELECT count(*)::int FROM ins
        $q$),
        ('InsertMembershipKey', $q$
        WITH v AS (
          SELECT cluster_id FROM orleans_membership_version
          WHERE cluster_id = @DeploymentId AND version = @Version FOR UPDATE),
        ins AS (
          INSERT INTO orleans_membership (cluster_id, address, port, generation, silo_name, host_name, status,
                                          proxy_port, start_time, i_am_alive_time)
          SELECT cluster_id, @Address, @Port, @Generation, @SiloName, @HostName, @Status,
                 @ProxyPort, @StartTime, @IAmAliveTime FROM v
          ON CONFLICT DO NOTHING RETURNING 1),
        bump AS (
          UPDATE orleans_membership_version SET version = version + 1, changed_at = now()
          WHERE cluster_id = @DeploymentId AND EXISTS (SELECT 1 FROM ins) RETURNING 1)
        SELECT count(*)::int FROM bump
        $q$),
        ('UpdateMembershipKey', $q$
        WITH v AS (
          SELECT cluster_id FROM orleans_membership_version
          WHERE cluster_id = @DeploymentId AND version = @Version FOR UPDATE),
        upd AS (
          UPDATE orleans_membership m
          SET status = @Status, suspect_times = @SuspectTimes, i_am_alive_time = @IAmAliveTime
          FROM v
          WHERE m.cluster_id = v.cluster_id AND m.address = @Address AND m.port = @Port AND m.generation = @Generation
          RETURNING 1),
        bump AS (
          UPDATE orleans_membership_version SET version = version + 1, changed_at = now()
          WHERE cluster_id = @DeploymentId AND EXISTS (SELECT 1 FROM upd) RETURNING 1)
        SELECT count(*)::int FROM bump
        $q$),
        ('UpdateIAmAlivetimeKey', $q$
        UPDATE orleans_membership SET i_am_alive_time = @IAmAliveTime
        WHERE cluster_id = @DeploymentId AND address = @Address AND port = @Port AND generation = @Generation
        $q$),
        ('MembershipReadAllKey', $q$
        {{MembershipRows}}
        LEFT JOIN orleans_membership m ON m.cluster_id = v.cluster_id
        WHERE v.cluster_id = @DeploymentId
        $q$),
        ('MembershipReadRowKey', $q$
        {{MembershipRows}}
        LEFT JOIN orleans_membership m ON m.cluster_id = v.cluster_id
             AND m.address = @Address AND m.port = @Port AND m.generation = @Generation
        WHERE v.cluster_id = @DeploymentId
        $q$),
        ('GatewaysQueryKey', $q$
        SELECT address AS "Address", proxy_port AS "ProxyPort", generation AS "Generation"
        FROM orleans_membership
        WHERE cluster_id = @DeploymentId AND status = @Status AND proxy_port > 0
        $q$),
        ('DeleteMembershipTableEntriesKey', $q$
        WITH d AS (DELETE FROM orleans_membership WHERE cluster_id = @DeploymentId)
        DELETE FROM orleans_membership_version WHERE cluster_id = @DeploymentId
        $q$),
        ('CleanupDefunctSiloEntriesKey', $q$
        DELETE FROM orleans_membership
        WHERE cluster_id = @DeploymentId AND i_am_alive_time < @IAmAliveTime AND status <> 3
        $q$)
        ON CONFLICT (QueryKey) DO UPDATE SET QueryText = EXCLUDED.QueryText;

        CREATE TABLE IF NOT EXISTS orleans_storage (
            service_id      text   NOT NULL,
            grain_type_hash int    NOT NULL,
            grain_id_hash   int    NOT NULL,
            grain_type      text   NOT NULL,
            grain_id_n0     bigint NOT NULL,
            grain_id_n1     bigint NOT NULL,
            grain_id_ext    text,
            payload         bytea,
            version         int    NOT NULL,
            modified_on     timestamptz NOT NULL DEFAULT now());
        CREATE UNIQUE INDEX IF NOT EXISTS orleans_storage_key ON orleans_storage
            (grain_id_hash, grain_type_hash, service_id, grain_type, grain_id_n0, grain_id_n1, coalesce(grain_id_ext, ''));

        INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES
        ('WriteToStorageKey', $q$
        WITH upd AS (
          UPDATE orleans_storage SET payload = @PayloadBinary, version = version + 1, modified_on = now()
          WHERE @GrainStateVersion IS NOT NULL AND version = @GrainStateVersion
            AND grain_id_hash = @GrainIdHash AND grain_type_hash = @GrainTypeHash AND service_id = @ServiceId
            AND grain_type = @GrainTypeString AND grain_id_n0 = @GrainIdN0 AND grain_id_n1 = @GrainIdN1
            AND coalesce(grain_id_ext, '') = coalesce(@GrainIdExtensionString, '')
          RETURNING version),
        ins AS (
          INSERT INTO orleans_storage (service_id, grain_type_hash, grain_id_hash, grain_type, grain_id_n0, grain_id_n1,
                                       grain_id_ext, payload, version)
          SELECT @ServiceId, @GrainTypeHash, @GrainIdHash, @GrainTypeString, @GrainIdN0, @GrainIdN1,
                 @GrainIdExtensionString, @PayloadBinary, 1
          WHERE @GrainStateVersion IS NULL
          ON CONFLICT DO NOTHING
          RETURNING version)
        SELECT version AS "NewGrainStateVersion" FROM upd
        UNION ALL
        SELECT version FROM ins
        $q$),
        ('ReadFromStorageKey', $q$
        SELECT payload AS "PayloadBinary", version AS "Version"
        FROM orleans_storage
        WHERE grain_id_hash = @GrainIdHash AND grain_type_hash = @GrainTypeHash AND service_id = @ServiceId
          AND grain_type = @GrainTypeString AND grain_id_n0 = @GrainIdN0 AND grain_id_n1 = @GrainIdN1
          AND coalesce(grain_id_ext, '') = coalesce(@GrainIdExtensionString, '')
        $q$),
        ('ClearStorageKey', $q$
        UPDATE orleans_storage SET payload = NULL, version = version + 1, modified_on = now()
        WHERE version = @GrainStateVersion
          AND grain_id_hash = @GrainIdHash AND grain_type_hash = @GrainTypeHash AND service_id = @ServiceId
          AND grain_type = @GrainTypeString AND grain_id_n0 = @GrainIdN0 AND grain_id_n1 = @GrainIdN1
          AND coalesce(grain_id_ext, '') = coalesce(@GrainIdExtensionString, '')
        RETURNING version AS "NewGrainStateVersion"
        $q$)
        ON CONFLICT (QueryKey) DO UPDATE SET QueryText = EXCLUDED.QueryText;
        """;

    /// <summary>
    /// Grain state in the embedded silo's SQLite file (<c>metadata.db</c>), for Orleans.Persistence.AdoNet with the
    /// invariant <c>System.Data.SQLite</c> (which Orleans serves with Microsoft.Data.Sqlite). Same contract as above:
    /// a write that names a stale version matches no row, returns nothing, and Orleans reports an ETag conflict.
    /// </summary>
    public const string Sqlite =
        """
        CREATE TABLE IF NOT EXISTS OrleansQuery (
            QueryKey  TEXT PRIMARY KEY,
            QueryText TEXT NOT NULL);
        CREATE TABLE IF NOT EXISTS orleans_storage (
            service_id      TEXT    NOT NULL,
            grain_type_hash INTEGER NOT NULL,
            grain_id_hash   INTEGER NOT NULL,
            grain_type      TEXT    NOT NULL,
            grain_id_n0     INTEGER NOT NULL,
            grain_id_n1     INTEGER NOT NULL,
            grain_id_ext    TEXT,
            payload         BLOB,
            version         INTEGER NOT NULL,
            modified_on     TEXT    NOT NULL DEFAULT (datetime('now')));
        CREATE UNIQUE INDEX IF NOT EXISTS orleans_storage_key ON orleans_storage
            (grain_id_hash, grain_type_hash, service_id, grain_type, grain_id_n0, grain_id_n1, ifnull(grain_id_ext, ''));

        INSERT OR REPLACE INTO OrleansQuery (QueryKey, QueryText) VALUES ('WriteToStorageKey', '
        UPDATE orleans_storage SET payload = @PayloadBinary, version = version + 1, modified_on = datetime(''now'')
        WHERE @GrainStateVersion IS NOT NULL AND version = @GrainStateVersion
          AND grain_id_hash = @GrainIdHash AND grain_type_hash = @GrainTypeHash AND service_id = @ServiceId
          AND grain_type = @GrainTypeString AND grain_id_n0 = @GrainIdN0 AND grain_id_n1 = @GrainIdN1
          AND ifnull(grain_id_ext, '''') = ifnull(@GrainIdExtensionString, '''')
        RETURNING version AS NewGrainStateVersion;
        INSERT INTO orleans_storage (service_id, grain_type_hash, grain_id_hash, grain_type, grain_id_n0, grain_id_n1, grain_id_ext, payload, version)
        SELECT @ServiceId, @GrainTypeHash, @GrainIdHash, @GrainTypeString, @GrainIdN0, @GrainIdN1, @GrainIdExtensionString, @PayloadBinary, 1
        WHERE @GrainStateVersion IS NULL
        ON CONFLICT DO NOTHING
        RETURNING version AS NewGrainStateVersion;
        ');
        INSERT OR REPLACE INTO OrleansQuery (QueryKey, QueryText) VALUES ('ReadFromStorageKey', '
        SELECT payload AS PayloadBinary, version AS Version FROM orleans_storage
        WHERE grain_id_hash = @GrainIdHash AND grain_type_hash = @GrainTypeHash AND service_id = @ServiceId
          AND grain_type = @GrainTypeString AND grain_id_n0 = @GrainIdN0 AND grain_id_n1 = @GrainIdN1
          AND ifnull(grain_id_ext, '''') = ifnull(@GrainIdExtensionString, '''');
        ');
        INSERT OR REPLACE INTO OrleansQuery (QueryKey, QueryText) VALUES ('ClearStorageKey', '
        UPDATE orleans_storage SET payload = NULL, version = version + 1, modified_on = datetime(''now'')
        WHERE version = @GrainStateVersion
          AND grain_id_hash = @GrainIdHash AND grain_type_hash = @GrainTypeHash AND service_id = @ServiceId
          AND grain_type = @GrainTypeString AND grain_id_n0 = @GrainIdN0 AND grain_id_n1 = @GrainIdN1
          AND ifnull(grain_id_ext, '''') = ifnull(@GrainIdExtensionString, '''')
        RETURNING version AS NewGrainStateVersion;
        ');
        """;
}
