namespace DeepRetrieval.Packaging.Tests;

/// <summary>Packs once for every test class that needs the packages.</summary>
[CollectionDefinition(Name)]
public sealed class PackedCollection : ICollectionFixture<PackedPackages>
{
    public const string Name = "packed packages";
}
