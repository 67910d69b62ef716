namespace OrleansBus.Contracts;

/// <summary>Stable error codes carried in the <c>code</c> field of every problem+json reply.</summary>
public static class BusErrorCodes
{
    /// <summary>400: the category name breaks the name rule.</summary>
    public const string InvalidCategoryName = "invalid_category_name";
    /// <summary>400: the consumer group name breaks the name rule.</summary>
    public const string InvalidGroupName = "invalid_group_name";
    /// <summary>404: the consumer group does not exist.</summary>
    public const string GroupNotFound = "group_not_found";
    /// <summary>409: the delivery's lease was lost (expired and taken by another consumer, or already settled).</summary>
    public const string LeaseLost = "lease_lost";
    /// <summary>400: a chunk name is malformed.</summary>
    public const string InvalidChunkName = "invalid_chunk_name";
    /// <summary>400: the body does not end with a newline.</summary>
    public const string MissingTrailingNewline = "missing_trailing_newline";
    /// <summary>400: the body is empty.</summary>
    public const string EmptyBody = "empty_body";
    /// <summary>400: a query parameter or setting has a bad value.</summary>
    public const string InvalidArgument = "invalid_argument";
    /// <summary>404: the category does not exist.</summary>
    public const string CategoryNotFound = "category_not_found";
    /// <summary>409: the category is being deleted (<c>DELETE /v1/categories/{c}</c>); it can be created again once that is done.</summary>
    public const string CategoryDeleting = "category_deleting";
    /// <summary>404: the chunk does not exist.</summary>
    public const string ChunkNotFound = "chunk_not_found";

    /// <summary>410: the chunk was deleted by the category's retention.</summary>
    public const string ChunkExpired = "chunk_expired";
    /// <summary>413: one message exceeds MaxMessageBytes.</summary>
    public const string MessageTooLarge = "message_too_large";
    /// <summary>413: the request body exceeds MaxRequestBytes.</summary>
    public const string RequestTooLarge = "request_too_large";
    /// <summary>416: the read offset lies beyond the chunk's readable size.</summary>
    public const string OffsetOutOfRange = "offset_out_of_range";
    /// <summary>500 (chukcha's code, chukcha API): an ack of a chunk that is still being written.</summary>
    public const string ChunkNotComplete = "chunk_not_complete";
    /// <summary>500 (chukcha's code, chukcha API): an ack whose size is below the chunk's size.</summary>
    public const string ChunkNotFullyRead = "chunk_not_fully_read";
    /// <summary>409 (chukcha API): a consumer of the chukcha group holds a lease on the chunk.</summary>
    public const string ChunkLeased = "chunk_leased";
    /// <summary>503: the produce asks for more replicas (min_sync_replicas) than can hold the batch; nothing was written.</summary>
    public const string NotEnoughReplicas = "not_enough_replicas";
    /// <summary>504: the batch was written but fewer replicas than min_sync_replicas held it in time; value = replicas that did.</summary>
    public const string ReplicationTimeout = "replication_timeout";
    /// <summary>503: the chunk is archived, its local copy was dropped and the archive cannot be reached; retry later.</summary>
    public const string ArchiveUnavailable = "archive_unavailable";
    /// <summary>503: the chunk is archived, no silo's local copy is left, and the archive lost it; an operator must restore it.</summary>
    public const string ArchiveMissing = "archive_missing";
    /// <summary>503: a partial ack of a chunk held by another silo; send it to the silo that served the poll.</summary>
    public const string ChunkNotLocal = "chunk_not_local";
    /// <summary>503: the chunk failed its checksum check and is quarantined.</summary>
    public const string ChunkCorrupt = "chunk_corrupt";
    /// <summary>503: the silo is not ready (starting or stopping).</summary>
    public const string NotReady = "not_ready";
    /// <summary>507: the disk is full; nothing of the request was kept.</summary>
    public const string DiskFull = "disk_full";
    /// <summary>503 (gateway): no silo is live, so nothing could be forwarded; retry later.</summary>
    public const string NoLiveSilo = "no_live_silo";
    /// <summary>502 (gateway): no live silo could be reached (connection refused, timed out or broken); the detail names the silos tried.</summary>
    public const string SiloUnreachable = "silo_unreachable";
    /// <summary>
    /// 504 (gateway): the request reached a silo (or a grain call left the gateway), then the connection broke or the
    /// silo went away before it answered. It may or may not have taken effect: a produce may have been written (retrying
    /// may duplicate it), an ack may have been applied (retrying may answer <c>lease_lost</c>).
    /// </summary>
    public const string OutcomeUnknown = "outcome_unknown";
    /// <summary>503: a grain the request needs lives on a silo that is not an active cluster member (it died or is stopping); retry later.</summary>
    public const string SiloUnavailable = "silo_unavailable";
    /// <summary>503: the cluster could not answer in time (a grain call timed out or its silo went away mid-call); retry later.</summary>
    public const string ClusterUnavailable = "cluster_unavailable";
    /// <summary>503: the metadata database (catalog, group state) could not be reached or ended the connection (a restart); nothing was acknowledged; retry after <c>Retry-After</c>.</summary>
    public const string MetadataUnavailable = "metadata_unavailable";
    /// <summary>503: the silo could not confirm it is still a cluster member, so it acknowledged nothing; retry (through the gateway, another silo).</summary>
    public const string SiloFenced = "silo_fenced";
    /// <summary>500: an unexpected server error.</summary>
    public const string Internal = "internal_error";
}
