namespace DeepRetrieval.Evaluation.Protocols;

/// <summary>The three protocols of revisited Oxford and Paris (Radenović et al., CVPR 2018).</summary>
public enum RevisitedSetting
{
    /// <summary>Positives: easy images; junk: junk and hard images.</summary>
    Easy,

    /// <summary>Positives: easy and hard images; junk: junk images.</summary>
    Medium,

    /// <summary>Positives: hard images; junk: junk and easy images.</summary>
    Hard,
}
