namespace DeepRetrieval.Orleans;

/// <summary>Which member of a shard's replica set may answer a read, and how fresh it must be.</summary>
[GenerateSerializer]
public enum ReadConsistency
{
    /// <summary>
    /// Read your writes (the default): any member may answer once it has applied every write this collection handle had
    /// acknowledged on that shard; a replica that is behind catches up from the shard's log in storage first, or the router
    /// asks another member.
    /// </summary>
    Session = 0,

    /// <summary>Only primaries answer: every write acknowledged to anyone before the read started is visible.</summary>
    Strong = 1,

    /// <summary>Any member answers with what it has applied (replicas lag the primary by about one push or one poll interval).</summary>
    Eventual = 2,
}
