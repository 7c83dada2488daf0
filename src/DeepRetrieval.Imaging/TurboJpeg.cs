using System.Runtime.InteropServices;

namespace DeepRetrieval.Imaging;

/// <summary>
/// JPEG decoding through the system's TurboJPEG library (Debian's <c>libturbojpeg0</c>, libjpeg-turbo with its SIMD
/// code) when it is installed: about twice as fast as the libjpeg-turbo SkiaSharp bundles, which is built without SIMD
/// on x64. Both use the accurate integer IDCT and fancy upsampling, so the pixels are the same (and equal to PIL's,
/// which uses the same library). Fatal errors return false so the caller can fall back to SkiaSharp; libjpeg's
/// warnings about damaged data are concealed as PIL conceals them, except a premature end of data (truncation).
/// </summary>
internal static unsafe class TurboJpeg
{
    private const int PixelFormatRgba = 7;
    private const int ColorspaceCmyk = 3, ColorspaceYcck = 4;
    private const int ErrorWarning = 0;

    private static readonly Api? Functions = Load();

    /// <summary>Whether a usable TurboJPEG library was found.</summary>
    public static bool IsAvailable => Functions is not null;

    /// <summary>
    /// Opens a decompressor and reads the JPEG's size; false (nothing to close) when the library is missing, the header
    /// is unreadable, or the colour space needs SkiaSharp (CMYK, YCCK: Adobe's inverted channels).
    /// </summary>
    public static bool TryOpen(ReadOnlySpan<byte> jpeg, out nint handle, out int width, out int height)
    {
        handle = 0;
        width = height = 0;
        if (Functions is not { } api || (handle = api.InitDecompress()) == 0)
            return false;
        int w, h, subsampling, colorspace, result;
        fixed (byte* data = jpeg)
            result = api.DecompressHeader3(handle, data, new CULong((nuint)jpeg.Length), &w, &h, &subsampling, &colorspace);
        if (result != 0 || colorspace is ColorspaceCmyk or ColorspaceYcck)
        {
            Close(handle);
            handle = 0;
            return false;
        }
        (width, height) = (w, h);
        return true;
    }

    /// <summary>Frees a decompressor from <see cref="TryOpen"/>.</summary>
    public static void Close(nint handle)
    {
        if (handle != 0)
            Functions!.Destroy(handle);
    }

    /// <summary>Decodes into RGBA (alpha 255) at the given size, which must be the full size or ⌈size / s⌉ for s = 2, 4, 8.</summary>
    /// <returns>True on success (warnings about damaged data included), false on a fatal error (fall back); a premature
    /// end of data throws.</returns>
    public static bool TryDecode(nint handle, ReadOnlySpan<byte> jpeg, Span<byte> rgba, int width, int height, string name)
    {
        Api api = Functions!;
        int result;
        fixed (byte* data = jpeg)
        fixed (byte* destination = rgba)
            result = api.Decompress2(handle, data, new CULong((nuint)jpeg.Length), destination, width, width * 4, height, PixelFormatRgba, 0);
        if (result == 0)
            return true;
        if (api.GetErrorCode(handle) != ErrorWarning)
            return false;
        string message = Marshal.PtrToStringUTF8((nint)api.GetErrorStr2(handle)) ?? "";
        if (message.Contains("Premature end", StringComparison.OrdinalIgnoreCase))
            throw ImageDecoder.Invalid(name, "the image data is truncated");
        return true;
    }

    private sealed class Api
    {
        public required delegate* unmanaged<nint> InitDecompress { get; init; }

        public required delegate* unmanaged<nint, byte*, CULong, int*, int*, int*, int*, int> DecompressHeader3 { get; init; }

        public required delegate* unmanaged<nint, byte*, CULong, byte*, int, int, int, int, int, int> Decompress2 { get; init; }

        public required delegate* unmanaged<nint, int> GetErrorCode { get; init; }

        public required delegate* unmanaged<nint, byte*> GetErrorStr2 { get; init; }

        public required delegate* unmanaged<nint, int> Destroy { get; init; }
    }

    private static Api? Load()
    {
        if (Environment.GetEnvironmentVariable("DEEPRETRIEVAL_DISABLE_TURBOJPEG") is "1" or "true")
            return null;
        foreach (string name in new[] { "libturbojpeg.so.0", "libturbojpeg.so", "libturbojpeg.0.dylib", "turbojpeg" })
        {
            if (!NativeLibrary.TryLoad(name, out nint library))
                continue;
            if (NativeLibrary.TryGetExport(library, "tjInitDecompress", out nint init)
                && NativeLibrary.TryGetExport(library, "tjDecompressHeader3", out nint header)
                && NativeLibrary.TryGetExport(library, "tjDecompress2", out nint decompress)
                && NativeLibrary.TryGetExport(library, "tjGetErrorCode", out nint code)
                && NativeLibrary.TryGetExport(library, "tjGetErrorStr2", out nint message)
                && NativeLibrary.TryGetExport(library, "tjDestroy", out nint destroy))
            {
                return new Api
                {
                    InitDecompress = (delegate* unmanaged<nint>)init,
                    DecompressHeader3 = (delegate* unmanaged<nint, byte*, CULong, int*, int*, int*, int*, int>)header,
                    Decompress2 = (delegate* unmanaged<nint, byte*, CULong, byte*, int, int, int, int, int, int>)decompress,
                    GetErrorCode = (delegate* unmanaged<nint, int>)code,
                    GetErrorStr2 = (delegate* unmanaged<nint, byte*>)message,
                    Destroy = (delegate* unmanaged<nint, int>)destroy,
                };
            }
            NativeLibrary.Free(library);
        }
        return null;
    }
}
