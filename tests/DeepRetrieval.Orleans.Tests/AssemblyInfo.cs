// The test classes start clusters (three in-process silos, three silo processes, the sample): one at a time, so that on a
// small machine a failover test is not starved by another test's cluster.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
