// Many tests seed torch's process-wide generator (manual_seed, BackboneOptions.Seed) and then compare draws; a test class
// running in parallel that draws in between would change them. libtorch already uses every core inside each operation, so
// running test classes one at a time costs little.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
