using System.Numerics;

namespace DeepRetrieval.Imaging.Features;

/// <summary>
/// A 3 × 3 planar projective transform in double precision, row-major: a point (x, y) maps to
/// ((M11 x + M12 y + M13) / w, (M21 x + M22 y + M23) / w) with w = M31 x + M32 y + M33. Affine transforms are the
/// homographies with last row (0, 0, 1).
/// </summary>
/// <param name="M11">Row 1, column 1.</param>
/// <param name="M12">Row 1, column 2.</param>
/// <param name="M13">Row 1, column 3 (x translation).</param>
/// <param name="M21">Row 2, column 1.</param>
/// <param name="M22">Row 2, column 2.</param>
/// <param name="M23">Row 2, column 3 (y translation).</param>
/// <param name="M31">Row 3, column 1.</param>
/// <param name="M32">Row 3, column 2.</param>
/// <param name="M33">Row 3, column 3.</param>
public readonly record struct Homography(double M11, double M12, double M13, double M21, double M22, double M23, double M31, double M32, double M33)
{
    /// <summary>The identity transform.</summary>
    public static Homography Identity => new(1, 0, 0, 0, 1, 0, 0, 0, 1);

    /// <summary>Creates a homography from nine row-major values.</summary>
    /// <param name="values">M11, M12, M13, M21, …, M33.</param>
    /// <exception cref="ArgumentException">Not exactly nine values, or a value is not finite.</exception>
    public static Homography FromRowMajor(ReadOnlySpan<double> values)
    {
        if (values.Length != 9)
            throw new ArgumentException($"A homography has 9 values; got {values.Length}.", nameof(values));
        foreach (double v in values)
        {
            if (!double.IsFinite(v)) throw new ArgumentException("Homography values must be finite.", nameof(values));
        }
        return new Homography(values[0], values[1], values[2], values[3], values[4], values[5], values[6], values[7], values[8]);
    }

    /// <summary>The affine transform x' = a x + b y + c, y' = d x + e y + f.</summary>
    /// <param name="a">x coefficient of x'.</param>
    /// <param name="b">y coefficient of x'.</param>
    /// <param name="c">x translation.</param>
    /// <param name="d">x coefficient of y'.</param>
    /// <param name="e">y coefficient of y'.</param>
    /// <param name="f">y translation.</param>
    public static Homography Affine(double a, double b, double c, double d, double e, double f) => new(a, b, c, d, e, f, 0, 0, 1);

    /// <summary>True when the last row is (0, 0, 1).</summary>
    public bool IsAffine => M31 == 0 && M32 == 0 && M33 == 1;

    /// <summary>The nine values, row-major.</summary>
    public double[] ToRowMajor() => [M11, M12, M13, M21, M22, M23, M31, M32, M33];

    /// <summary>Maps a point; a point sent to infinity (w = 0) maps to (∞, ∞).</summary>
    /// <param name="x">Column.</param>
    /// <param name="y">Row.</param>
    public (double X, double Y) Transform(double x, double y)
    {
        double w = M31 * x + M32 * y + M33;
        if (w == 0) return (double.PositiveInfinity, double.PositiveInfinity);
        return ((M11 * x + M12 * y + M13) / w, (M21 * x + M22 * y + M23) / w);
    }

    /// <summary>Maps a point given as a vector.</summary>
    /// <param name="point">The point.</param>
    public Vector2 Transform(Vector2 point)
    {
        (double x, double y) = Transform(point.X, point.Y);
        return new Vector2((float)x, (float)y);
    }

    /// <summary>The Jacobian of <see cref="Transform(double, double)"/> at a point: the local affine approximation (a, b; c, d).</summary>
    /// <param name="x">Column.</param>
    /// <param name="y">Row.</param>
    public (double A, double B, double C, double D) Jacobian(double x, double y)
    {
        double u = M11 * x + M12 * y + M13, v = M21 * x + M22 * y + M23, w = M31 * x + M32 * y + M33;
        double w2 = w * w;
        return (M11 / w - u * M31 / w2, M12 / w - u * M32 / w2, M21 / w - v * M31 / w2, M22 / w - v * M32 / w2);
    }

    /// <summary>The determinant of the 3 × 3 matrix.</summary>
    public double Determinant =>
        M11 * (M22 * M33 - M23 * M32) - M12 * (M21 * M33 - M23 * M31) + M13 * (M21 * M32 - M22 * M31);

    /// <summary>The inverse transform.</summary>
    /// <exception cref="InvalidOperationException">The matrix is singular.</exception>
    public Homography Inverse()
    {
        double det = Determinant;
        if (det == 0 || !double.IsFinite(det))
            throw new InvalidOperationException("The homography is singular and has no inverse.");
        double s = 1 / det;
        return new Homography(
            (M22 * M33 - M23 * M32) * s, (M13 * M32 - M12 * M33) * s, (M12 * M23 - M13 * M22) * s,
            (M23 * M31 - M21 * M33) * s, (M11 * M33 - M13 * M31) * s, (M13 * M21 - M11 * M23) * s,
            (M21 * M32 - M22 * M31) * s, (M12 * M31 - M11 * M32) * s, (M11 * M22 - M12 * M21) * s);
    }

    /// <summary>The same transform scaled so that M33 = 1 (unchanged when M33 is 0).</summary>
    public Homography Normalized()
    {
        if (M33 == 0) return this;
        double s = 1 / M33;
        return new Homography(M11 * s, M12 * s, M13 * s, M21 * s, M22 * s, M23 * s, M31 * s, M32 * s, 1);
    }

    /// <summary>Composition: <c>(a * b)</c> applies <paramref name="b"/> first, then <paramref name="a"/>.</summary>
    /// <param name="a">The transform applied second.</param>
    /// <param name="b">The transform applied first.</param>
    public static Homography operator *(Homography a, Homography b) => new(
        a.M11 * b.M11 + a.M12 * b.M21 + a.M13 * b.M31, a.M11 * b.M12 + a.M12 * b.M22 + a.M13 * b.M32, a.M11 * b.M13 + a.M12 * b.M23 + a.M13 * b.M33,
        a.M21 * b.M11 + a.M22 * b.M21 + a.M23 * b.M31, a.M21 * b.M12 + a.M22 * b.M22 + a.M23 * b.M32, a.M21 * b.M13 + a.M22 * b.M23 + a.M23 * b.M33,
        a.M31 * b.M11 + a.M32 * b.M21 + a.M33 * b.M31, a.M31 * b.M12 + a.M32 * b.M22 + a.M33 * b.M32, a.M31 * b.M13 + a.M32 * b.M23 + a.M33 * b.M33);
}
