// The targets share libtorch, SkiaSharp and one scratch folder per process; the short runs go one at a time, and their time
// budgets are for one core.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
