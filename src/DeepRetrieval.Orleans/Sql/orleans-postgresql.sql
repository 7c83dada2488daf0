-- The tables and queries that Orleans' ADO.NET clustering (Microsoft.Orleans.Clustering.AdoNet) and grain storage
-- (Microsoft.Orleans.Persistence.AdoNet) use on PostgreSQL 12 or later, written for DeepRetrieval.Orleans. The providers
-- read their queries from OrleansQuery by key and bind parameters by name (@DeploymentId …); each conditional write below is
-- a single statement, so it commits or changes nothing. Apply once per database (OrleansPostgreSqlSchema.Script).

CREATE TABLE IF NOT EXISTS OrleansQuery
(
    QueryKey varchar(64) NOT NULL PRIMARY KEY,
    QueryText varchar(8000) NOT NULL
);

-- Membership: one version row per deployment (bumped by every membership change, the table's optimistic-concurrency
-- token) and one row per silo incarnation.
CREATE TABLE IF NOT EXISTS OrleansMembershipVersionTable
(
    DeploymentId varchar(150) NOT NULL PRIMARY KEY,
    Timestamp timestamptz(3) NOT NULL DEFAULT now(),
    Version integer NOT NULL DEFAULT 0
);

CREATE TABLE IF NOT EXISTS OrleansMembershipTable
(
    DeploymentId varchar(150) NOT NULL,
    Address varchar(45) NOT NULL,
    Port integer NOT NULL,
    Generation integer NOT NULL,
    SiloName varchar(150) NOT NULL,
    HostName varchar(150) NOT NULL,
    Status integer NOT NULL,
    ProxyPort integer NULL,
    SuspectTimes varchar(8000) NULL,
    StartTime timestamptz(3) NOT NULL,
    IAmAliveTime timestamptz(3) NOT NULL,
    PRIMARY KEY (DeploymentId, Address, Port, Generation)
);

-- Grain state: one row per (service, state name, grain id); Version is the ETag.
CREATE TABLE IF NOT EXISTS OrleansStorage
(
    GrainIdHash integer NOT NULL,
    GrainIdN0 bigint NOT NULL,
    GrainIdN1 bigint NOT NULL,
    GrainTypeHash integer NOT NULL,
    GrainTypeString varchar(512) NOT NULL,
    GrainIdExtensionString varchar(512) NULL,
    ServiceId varchar(150) NOT NULL,
    PayloadBinary bytea NULL,
    ModifiedOn timestamp NOT NULL,
    Version integer NULL
);

CREATE UNIQUE INDEX IF NOT EXISTS OrleansStorage_Key
    ON OrleansStorage (ServiceId, GrainTypeString, GrainIdN0, GrainIdN1, (coalesce(GrainIdExtensionString, '')));

DELETE FROM OrleansQuery WHERE QueryKey IN ('UpdateIAmAlivetimeKey', 'InsertMembershipVersionKey', 'InsertMembershipKey',
    'UpdateMembershipKey', 'MembershipReadRowKey', 'MembershipReadAllKey', 'DeleteMembershipTableEntriesKey', 'GatewaysQueryKey',
    'CleanupDefunctSiloEntriesKey', 'WriteToStorageKey', 'ReadFromStorageKey', 'ClearStorageKey', 'DeleteStorageKey');

INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES
('UpdateIAmAlivetimeKey', '
UPDATE OrleansMembershipTable SET IAmAliveTime = @IAmAliveTime
WHERE DeploymentId = @DeploymentId AND Address = @Address AND Port = @Port AND Generation = @Generation;'),

-- Returns 1 when the deployment''s version row was created, 0 when it existed.
('InsertMembershipVersionKey', '
WITH created AS (
    INSERT INTO OrleansMembershipVersionTable (DeploymentId) VALUES (@DeploymentId)
    ON CONFLICT (DeploymentId) DO NOTHING RETURNING 1)
SELECT count(*) FROM created;'),

-- Adds a silo row only when the version still equals @Version and the row is new; bumps the version with it.
('InsertMembershipKey', '
WITH bumped AS (
    UPDATE OrleansMembershipVersionTable SET Version = Version + 1, Timestamp = now()
    WHERE DeploymentId = @DeploymentId AND Version = @Version
      AND NOT EXISTS (SELECT 1 FROM OrleansMembershipTable m
                      WHERE m.DeploymentId = @DeploymentId AND m.Address = @Address AND m.Port = @Port AND m.Generation = @Generation)
    RETURNING 1),
inserted AS (
    INSERT INTO OrleansMembershipTable (DeploymentId, Address, Port, Generation, SiloName, HostName, Status, ProxyPort, StartTime, IAmAliveTime)
    SELECT @DeploymentId, @Address, @Port, @Generation, @SiloName, @HostName, @Status, @ProxyPort, @StartTime, @IAmAliveTime FROM bumped
    ON CONFLICT DO NOTHING RETURNING 1)
SELECT count(*) FROM inserted;'),

-- Changes a silo row only when the version still equals @Version; bumps the version with it.
('UpdateMembershipKey', '
WITH bumped AS (
    UPDATE OrleansMembershipVersionTable SET Version = Version + 1, Timestamp = now()
    WHERE DeploymentId = @DeploymentId AND Version = @Version
      AND EXISTS (SELECT 1 FROM OrleansMembershipTable m
                  WHERE m.DeploymentId = @DeploymentId AND m.Address = @Address AND m.Port = @Port AND m.Generation = @Generation)
    RETURNING 1),
updated AS (
    UPDATE OrleansMembershipTable SET Status = @Status, SuspectTimes = @SuspectTimes, IAmAliveTime = @IAmAliveTime
    WHERE DeploymentId = @DeploymentId AND Address = @Address AND Port = @Port AND Generation = @Generation
      AND EXISTS (SELECT 1 FROM bumped)
    RETURNING 1)
SELECT count(*) FROM updated;'),

('MembershipReadRowKey', '
SELECT v.DeploymentId, m.Address, m.Port, m.Generation, m.SiloName, m.HostName, m.Status, m.ProxyPort, m.SuspectTimes,
       m.StartTime, m.IAmAliveTime, v.Version
FROM OrleansMembershipVersionTable v
LEFT JOIN OrleansMembershipTable m ON m.DeploymentId = v.DeploymentId
     AND m.Address = @Address AND m.Port = @Port AND m.Generation = @Generation
WHERE v.DeploymentId = @DeploymentId;'),

('MembershipReadAllKey', '
SELECT v.DeploymentId, m.Address, m.Port, m.Generation, m.SiloName, m.HostName, m.Status, m.ProxyPort, m.SuspectTimes,
       m.StartTime, m.IAmAliveTime, v.Version
FROM OrleansMembershipVersionTable v
LEFT JOIN OrleansMembershipTable m ON m.DeploymentId = v.DeploymentId
WHERE v.DeploymentId = @DeploymentId;'),

('DeleteMembershipTableEntriesKey', '
WITH silos AS (DELETE FROM OrleansMembershipTable WHERE DeploymentId = @DeploymentId)
DELETE FROM OrleansMembershipVersionTable WHERE DeploymentId = @DeploymentId;'),

('GatewaysQueryKey', '
SELECT Address, ProxyPort, Generation FROM OrleansMembershipTable
WHERE DeploymentId = @DeploymentId AND Status = @Status AND ProxyPort > 0;'),

-- Removes rows of silos that stopped heart-beating before @IAmAliveTime, except active ones (status 3).
('CleanupDefunctSiloEntriesKey', '
DELETE FROM OrleansMembershipTable
WHERE DeploymentId = @DeploymentId AND IAmAliveTime < @IAmAliveTime AND Status <> 3;'),

-- Inserts (@GrainStateVersion null: only when no row exists) or replaces (only when Version = @GrainStateVersion) a state.
-- Returns the new version, or @GrainStateVersion unchanged when the condition failed (the provider then throws
-- InconsistentStateException).
('WriteToStorageKey', '
WITH replaced AS (
    UPDATE OrleansStorage SET PayloadBinary = @PayloadBinary, ModifiedOn = (now() at time zone ''utc''), Version = Version + 1
    WHERE @GrainStateVersion IS NOT NULL AND Version = @GrainStateVersion
      AND ServiceId = @ServiceId AND GrainTypeString = @GrainTypeString AND GrainIdN0 = @GrainIdN0 AND GrainIdN1 = @GrainIdN1
      AND coalesce(GrainIdExtensionString, '''') = coalesce(@GrainIdExtensionString, '''')
    RETURNING Version),
inserted AS (
    INSERT INTO OrleansStorage (GrainIdHash, GrainIdN0, GrainIdN1, GrainTypeHash, GrainTypeString, GrainIdExtensionString, ServiceId,
                                PayloadBinary, ModifiedOn, Version)
    SELECT @GrainIdHash, @GrainIdN0, @GrainIdN1, @GrainTypeHash, @GrainTypeString, @GrainIdExtensionString, @ServiceId,
           @PayloadBinary, (now() at time zone ''utc''), 1
    WHERE @GrainStateVersion IS NULL
    ON CONFLICT DO NOTHING RETURNING Version)
SELECT coalesce((SELECT Version FROM replaced), (SELECT Version FROM inserted), @GrainStateVersion) AS NewGrainStateVersion;'),

('ReadFromStorageKey', '
SELECT PayloadBinary, (now() at time zone ''utc'') AS ReadOn, Version FROM OrleansStorage
WHERE ServiceId = @ServiceId AND GrainTypeString = @GrainTypeString AND GrainIdN0 = @GrainIdN0 AND GrainIdN1 = @GrainIdN1
  AND coalesce(GrainIdExtensionString, '''') = coalesce(@GrainIdExtensionString, '''')
  AND GrainIdHash = @GrainIdHash AND GrainTypeHash = @GrainTypeHash;'),

('ClearStorageKey', '
UPDATE OrleansStorage SET PayloadBinary = NULL, Version = Version + 1
WHERE Version = @GrainStateVersion
  AND ServiceId = @ServiceId AND GrainTypeString = @GrainTypeString AND GrainIdN0 = @GrainIdN0 AND GrainIdN1 = @GrainIdN1
  AND coalesce(GrainIdExtensionString, '''') = coalesce(@GrainIdExtensionString, '''')
  AND GrainIdHash = @GrainIdHash AND GrainTypeHash = @GrainTypeHash
RETURNING Version AS NewGrainStateVersion;'),

('DeleteStorageKey', '
DELETE FROM OrleansStorage
WHERE Version = @GrainStateVersion
  AND ServiceId = @ServiceId AND GrainTypeString = @GrainTypeString AND GrainIdN0 = @GrainIdN0 AND GrainIdN1 = @GrainIdN1
  AND coalesce(GrainIdExtensionString, '''') = coalesce(@GrainIdExtensionString, '''')
  AND GrainIdHash = @GrainIdHash AND GrainTypeHash = @GrainTypeHash
RETURNING Version + 1 AS NewGrainStateVersion;');
