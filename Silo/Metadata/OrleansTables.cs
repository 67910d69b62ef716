namespace OrleansBus.Silo.Metadata;

/// <summary>
/// The PostgreSQL tables and <c>OrleansQuery</c> rows that Orleans' ADO.NET clustering provider needs. Orleans ships
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
    public const string Postgres =
        """
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
        SELECT v.cluster_id AS "DeploymentId", m.address AS "Address", m.port AS "Port", m.generation AS "Generation",
               m.silo_name AS "SiloName", m.host_name AS "HostName", m.status AS "Status", m.proxy_port AS "ProxyPort",
               m.suspect_times AS "SuspectTimes", m.start_time AS "StartTime", m.i_am_alive_time AS "IAmAliveTime",
               v.version AS "Version"
        FROM orleans_membership_version v
        LEFT JOIN orleans_membership m ON m.cluster_id = v.cluster_id
        WHERE v.cluster_id = @DeploymentId
        $q$),
        ('MembershipReadRowKey', $q$
        SELECT v.cluster_id AS "DeploymentId", m.address AS "Address", m.port AS "Port", m.generation AS "Generation",
               m.silo_name AS "SiloName", m.host_name AS "HostName", m.status AS "Status", m.proxy_port AS "ProxyPort",
               m.suspect_times AS "SuspectTimes", m.start_time AS "StartTime", m.i_am_alive_time AS "IAmAliveTime",
               v.version AS "Version"
        FROM orleans_membership_version v
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
        """;
}
