using DeepRetrieval.Pooling;

namespace DeepRetrieval.Tests.Pooling;

public class FeatureMapPoolingsTests
{
    [Theory]
    [InlineData("GeM", "GeM(p=3,eps=1E-06)")]
    [InlineData("gem(p=2.5)", "GeM(p=2.5,eps=1E-06)")]
    [InlineData(" GeM ( p = 4 , eps = 0.001 ) ", "GeM(p=4,eps=0.001)")]
    [InlineData("GeM(p=[3;2.5;4])", "GeM(p=[3;2.5;4],eps=1E-06)")]
    [InlineData("MAC", "MAC")]
    [InlineData("spoc", "SPoC")]
    [InlineData("SPoC()", "SPoC")]
    [InlineData("RMAC", "RMAC(levels=3,wholeMap=true,eps=1E-06)")]
    [InlineData("RMAC(levels=2,wholeMap=false)", "RMAC(levels=2,wholeMap=false,eps=1E-06)")]
    public void Parse_BuildsThePoolingWithDefaultsFilledIn(string text, string description)
    {
        IFeatureMapPooling pooling = FeatureMapPoolings.Parse(text);
        pooling.Description.Should().Be(description);
        FeatureMapPoolings.Parse(pooling.Description).Description.Should().Be(description, "a description rebuilds the same pooling");
    }

    [Fact]
    public void Parse_GivesPoolingsOfTheRightTypeAndParameters()
    {
        var gem = FeatureMapPoolings.Parse("GeM(p=[1;3])").Should().BeOfType<GemPooling>().Subject;
        gem.P.Should().Equal(1f, 3f);
        gem.Channels.Should().Be(2);
        var rmac = FeatureMapPoolings.Parse("RMAC(levels=5,eps=0)").Should().BeOfType<RmacPooling>().Subject;
        rmac.Levels.Should().Be(5);
        rmac.Epsilon.Should().Be(0f);
        FeatureMapPoolings.Names.Should().BeEquivalentTo(["GeM", "MAC", "SPoC", "RMAC"]);
    }

    [Theory]
    [InlineData("NetVLAD", "*Unknown pooling 'NetVLAD'*known: GeM, MAC, SPoC, RMAC*")]
    [InlineData("GeM(q=3)", "*GeM has no parameter 'q'*")]
    [InlineData("MAC(p=3)", "*MAC has no parameter 'p'*")]
    [InlineData("GeM(p=three)", "*'p' must be a number*")]
    [InlineData("GeM(p=3", "*must end with ')'*")]
    [InlineData("GeM(p=3,p=4)", "*given twice*")]
    [InlineData("GeM(3)", "*'3' is not key=value*")]
    [InlineData("GeM(p=-1)", "*Invalid pooling 'GeM(p=-1)'*positive*")]
    [InlineData("RMAC(levels=2.5)", "*'levels' must be an integer*")]
    [InlineData("RMAC(wholeMap=yes)", "*'wholeMap' must be true or false*")]
    [InlineData("GeM(p=[3;2)", "*must end with ']'*")]
    public void Parse_RejectsMalformedOrUnknownDescriptions(string text, string message)
    {
        FluentActions.Invoking(() => FeatureMapPoolings.Parse(text)).Should().Throw<ArgumentException>().WithMessage(message);
    }
}
