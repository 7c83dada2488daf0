using DeepRetrieval.Samples.CopyDetection.Photos;

namespace DeepRetrieval.Samples.Tests.CopyDetection;

/// <summary>One key per picture: the twins Debian's wallpaper packages ship must not end up as unlabelled copies among the distractors.</summary>
public sealed class PhotoCatalogTests
{
    private const string Skimage = "/usr/lib/python3/dist-packages/skimage/data";

    [Theory]
    [InlineData("/usr/share/wallpapers", "wallpapers", "Altai/contents/images/5120x2880.png", "wallpapers/Altai")]
    [InlineData("/usr/share/wallpapers", "wallpapers", "Altai/contents/images/1080x1920.png", "wallpapers/Altai")]
    [InlineData("/usr/share/backgrounds/mate", "mate", "abstract/Elephants.jpg", "mate/abstract/Elephants")]
    [InlineData("/usr/share/backgrounds/mate", "mate", "abstract/Elephants_5640x3172.jpg", "mate/abstract/Elephants")]
    [InlineData("/usr/share/backgrounds/mate", "mate", "desktop/Ubuntu-Mate-Cold-no-logo.png", "mate/desktop/Ubuntu-Mate")]
    [InlineData("/usr/share/backgrounds/mate", "mate", "desktop/Ubuntu-Mate-Radioactive-no-logo.png", "mate/desktop/Ubuntu-Mate")]
    [InlineData("/usr/share/backgrounds/mate", "mate", "desktop/MATE-Stripes-Dark.png", "mate/desktop/MATE-Stripes")]
    [InlineData("/usr/share/backgrounds/mate", "mate", "nature/Garden.jpg", "mate/nature/Garden")]
    [InlineData("/usr/share/backgrounds/gnome", "gnome", "adwaita-d.webp", "gnome/adwaita")]
    [InlineData("/usr/share/backgrounds/gnome", "gnome", "adwaita-l.webp", "gnome/adwaita")]
    [InlineData(Skimage, "data", "astronaut.png", "skimage/astronaut")]
    [InlineData(Skimage, "data", "motorcycle_left.png", "skimage/motorcycle_left")]
    public void PictureKey_GivesTwinsOfOnePictureTheSameKey(string root, string prefix, string relative, string expected) =>
        PhotoCatalog.PictureKey(root, prefix, relative).Should().Be(expected);

    [Theory]
    [InlineData("/usr/share/wallpapers", "wallpapers", "Flow/contents/images_dark/5120x2880.jpg")]   // the dark variant
    [InlineData("/usr/share/wallpapers", "wallpapers", "Grey/contents/screenshot.jpg")]              // a thumbnail of the same picture
    [InlineData(Skimage, "data", "motorcycle_right.png")]                                             // the other view of a stereo pair
    [InlineData(Skimage, "data", "camera.png")]                                                       // grey
    [InlineData(Skimage, "data", "chessboard_RGB.png")]                                               // synthetic
    public void PictureKey_LeavesOutVariantsThumbnailsAndNonPhotos(string root, string prefix, string relative) =>
        PhotoCatalog.PictureKey(root, prefix, relative).Should().BeNull();
}
