using System.Buffers.Binary;
using System.Diagnostics;
using DeepRetrieval.Aggregation;
using DeepRetrieval.Fuzz.Targets;

namespace DeepRetrieval.Fuzz.Tests;

/// <summary>Inputs the fuzzer found, each a regression test of its fix.</summary>
public sealed class FuzzFindingRegressionTests
{
    [Fact]
    public void InvertedFile_RejectsAHugeDeclaredVocabulary_Quickly()
    {
        // Found by the aggregation target (seed 1, within 20,000 inputs): a 125-byte inverted file declaring 0x1F000004
        // (520 M) words. Before: the loader allocated the per-word tables (about 6 GB) and took 40 s to load it.
        byte[] file = new AggregationTarget().CreateSeeds().Single(s => s.Name == "inverted.drix").Bytes;
        int payload = 4 + 4 + 1 + file[8];
        BinaryPrimitives.ReadInt32LittleEndian(file.AsSpan(payload)).Should().Be(4, "the seed's vocabulary has 4 words");
        BinaryPrimitives.WriteInt32LittleEndian(file.AsSpan(payload), 0x1F000004);
        Integrity.RepairIndexContainer(file);
        var clock = Stopwatch.StartNew();
        FluentActions.Invoking(() => InvertedFile.Load(new MemoryStream(file))).Should().Throw<InvalidDataException>().WithMessage("*vocabulary size*");
        clock.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(2));
    }

    [Fact]
    public void Ivf_WhoseCoarseQuantizerHasAnotherDimension_IsRejected()
    {
        // Found by the index target's CI short run (seed of ShortFuzzRunTests, within 20,000 inputs) once load-time
        // checks compared the coarse quantizer with the centroids: an IVF of dimension 8 whose Flat quantizer declares
        // dimension 9 threw ArgumentOutOfRangeException from the comparison instead of InvalidDataException.
        byte[] file = Convert.FromBase64String(Finding);
        Integrity.RepairIndexContainer(file);
        FluentActions.Invoking(() => DeepRetrieval.Indexes.IndexFile.Load(new MemoryStream(file)))
            .Should().Throw<InvalidDataException>().WithMessage("*coarse quantizer has dimension*");
    }

    private const string Finding =
        "RFJJWAEAAAADSVZGCAAAAAAAAAAEAAAAAQAAAAAAAAAAAAAAAAAAAAAAAAARRzg+IIaXPvfE0j1Mk2q+gd4gv1lCzT2mhQo+F2pLvmvhPL7Rlus+9KYPPuLbkT00ZKM+pSlKvoALnL4F0B+9NyWhvhI6rb4HW/e+6z4kvZJilD1/hqE+69GCPiXGDb/XFOc9qJVRv/3TDj+6VcY9gMwDP0anGb42K7+9ifSmPgQAAABGbGF0CQAAAAAAAAAEAAAAAAAAAAQAAAAAAAAAAAAAAAAAAAABAAAAAAAAAAIAAAAAAAAAAwAAAAAAAAARRzg+IIaXPvfE0j1Mk2q+gd4gv1lCzT2mhQo+F2pLvmvhPL7Rlus+9KYPPuLbkT00ZKM+pSlKvoALnL4F0B+9NyWhvhI6rb4HW/e+6z4kvZJilD1/hqE+69GCPiXGDb/XFOc9qJVRv/3TDj+6VcY9gMwDP0anGb42K7+9ifSmPkAAAAAAAAAAFwAAAAUAAAAAAAAACwAAAAAAAAAMAAAAAAAAAA8AAAAAAAAAEQAAAAAAAAASAAAAAAAAABQAAAAAAAAAFgAAAAAAAAAYAAAAAAAAABkAAAAAAAAAHQAAAAAAAAAgAAAAAAAAACYAAAAAAAAALQAAAAAAAAA0Mjk0OTY3Mjk2AAAAAAAAADIAAAAAAAAAMwAAAAAAAAA1AAAAAAAAADcAAAAAAAAAOAAAAAAAAAA7AAAAAAAAAD0AAAAAAAAAPwAAAAAAAACGoOi+4NJ8P+Gwwz4kNmi+73sGvoKdsz6Lo7U+6jVevRWhcj5PViw/joI2P+4iDD+pglK/TYNyv8bDRT+1TQy/8fQ+P74WQr2gU8y+tVBBv9IkP796NoS+Ie9MvTt0hr7sLWI/f3qoPXqJwD68ai2/4RZ2v7WCdL/kuzy/osxZvx8dMT8mq8Y+eAxTPzBBZL8/9bm+JksYvyXB+j5xMSS/YzJVvwVDuT6ikos+6EcGv5dycL9PnAs+si8Ev+GADr+SlCa/vtt8P7ftPz8tbGG/q0+TvhpvJz+Ljs4+lU/Avr2uFz+yxY48WThYv8dwpb4XMGm+BIxJPwtaab9R9OU+YA6fvolHe75iU0I/uqyzvrlxsL5/mb0+ZXYlP/tC+b49WnU/yh20vvWpcL4EVDC/gNhOv+RDZz+4ow69XYYkP5L/vT4laSQ/QSWQviE9YL8i0LY8+PlGP1Clgz5VJHu/3TGgProJYD/OcOA+vhYwv7bPfL94JUK/DA1NP84MLL8PSyg/7o++vlxlnz4HD6C7cEgTvxGbxj7cYXI/gscdv9wIH76y7Fk+WLU0vs0+lb7B5wa/1hzcvmv5TD/72wi/gJ8zPiKxv72s5Lo+uhVUP0/5UL+nRgE/lzsVv9uhwj7vD7++2q4Lv16mY700eBS/QmE2v2Ux574I3lY/kxxIPwAjLr/KSaY+T1ehPj7hdD52SG+/kZJ8P/bHSj+1gzG/xSeqPVy7DD9Upo29+p0Nv74NKb8nZAK/RSG+PJ+jG7+dXok9w1UVP7o4Aj/QeBC+AGVPv2YwNj7HMqE+FVCZPWkjbj/SchU/zSK5vfnMuD7AsXO/7YGBvlWHm75Q17C+IrRPPsc+wL1wHQC/fCkfPwpVCb8Pd9g+AN3Jvt+4Zz+t81A/vT8nPwj4Hb6UxeM+TSQUvxDAbT+GHhk80q8sP1I2BL5UJSI/jIZXv2RYET6Ho0C/ypaYPZ4WT79qD4C+FAAAAAIAAAAAAAAADgAAAAAAAAATAAAAAAAAABUAAAAAAAAAFwAAAAAAAAAaAAAAAAAAABwAAAAAAAAAHgAAAAAAAAAhAAAAAAAAACMAAAAAAAAAJwAAAAAAAAApAAAAAAAAACoAAAAAAAAALAAAAAAAAAAuAAAAAAAAAC8AAAAAAAAAMQAAAAAAAAA0AAAAAAAAADoAAAAAAAAAPAAAAAAAAAA7fN6+vTpsPlEn0T7Ko84+XElmP2MvUL+TnS2/JrlxvmOmOb8/xTM/Su99P5tGur794Xc/pOuaPoOLNT+WD8w+REx5PpM5Tz6hfiO/ei8vPg1Auz5syL6+ekaavtDyjj2V4jU/beE/P8sGZL0s59a+tdL0PrTMGT9V9nO+JPL0Po8fbD9sAjk/8HLIvmHLPj8SAJQ+0KQ3vkeR/L2rCoQ9BjQPv5m9770hHRQ/J9Ymv94rB7/Zanq/oNUzvyxB4L6qMQK+Pj5hP5oTZD+HiY2+UnlXPzgnY79GODW+Ah5Hv2BNeL5b/Qu9z/6bPkQIGL+r5nc+A3jxvpql0L6uOKq+oqlwv0d2tj4Gvrq8ClQuvo5Pmz5/mFO/6SgKPy/EYL8WIpM+w79kPoLIO79L9bW+3Mm5PqYhCL8nmEg9ukGSvmTIRb9/RsA97AbLPJz+V74Ko3k/xR4gPsIbD70FeBc/yBJUv/ZWNz+2Va69j+DAPtqB1b6XE0M/XalTvtZOBj8P9Fs/QZt7PwxtUbw1poe+sK4gPl82cr9t2DW/UGlavg8Cfb+dWnu+5gwUPwOekz5kU9w931wFv5MKob3ZnYc+2Qwzv2IJAD+vnY+9yQd+P5uyVL+iHkW/p7MQv/8XP79aI3k/HVJeP2kUFr8Yn4W97Q3yPgN97L6tWVK/A907vTTJez1f6zg/HO9jP4CwcT/a22s++sYUP5OyL7+Vu2Y/kk0NPXqQXj+5eAg/ZA5AQv38UT6w43g/rOI3vwBOUb4lzDK/yoWdvZ8zLz+Ihw0/fL4tP2q3Z74z/5K+pGyNPgfeQ78zIVs/xoL3vj8Cer4zwBQ/joopP+DxJ79l6US+EAAAAAEAAAAAAAAABgAAAAAAAAAIAAAAAAAAAAkAAAAAAAAACgAAAAAAAAANAAAAAAAAABAAAAAAAAAAGwAAAAAAAAAfAAAAAAAAACIAAAAAAAAAJAAAAAAAAAAlAAAAAAAAACgAAAAAAAAAKwAAAAAAAAA2AAAAAAAAAD4AAAAAAAAAziZMv97fkT6EVnG/UwIBvw01uL7Cwno/fH66Pu6anj5wzgK/QwiWvsoPVz3UQCm/Fhidvq9LxD43v1a+IH8wv7njU7+NnMC+lZzHPfwlxr6T634/rWtAPzmgFz+NPg+/709Mv/5aJL9idxG+fHZpP0wfSL72bww/sjBlPydCQb/oq4G8pmO3vovkX78xfnm9TSOPvhGuZ75l+IS+vRt8vynd6j3toMa+5fBcvw0xKr+g+PK+UI/5vbOIAT/0Hia/iD3UviMQGL91flW/mRlaP5tjVr1ogSY/q+J9PyLyQb/JNWY/cQwzv7yLTb9tkCq8I4k6PeR7KD9asKs+uaHhvUL8Cr/ez0k+TRiAvmssJb/tYTE+tL6vvuFr7z6nITO/bg4yPWdnUr/qlkS/mJdrv4ODJb96/JC9HtIlP2nQJ7/LTFO/+vAUvz1YQb4csxY+bz4pv6hpYb2fVH6/wNv3vnvMKD5Xeb68ol4nv4e+Yj/vGQ0/NUJDP8R3uj7CYze/X04xvxO1PL9ukLC++jnrvSB7uT7egxu/QHpIP3/IZr/WUge/jY4Sv6dWpL0F43o+LpFrPyGsXj7TIeu+k9R9v7AEDj/8n/m+6ysxvw+6ljzk+xc/hx5CPx25qr7b/r6+jtRbv5T3LT8epOK+cpeIPvSw/D7bEUM/DtfKPhBFID4FAAAAAAAAAAAAAAADAAAAAAAAAAQAAAAAAAAABwAAAAAAAAA5AAAAAAAAAIOuAL+RTEe/zx+HvbIPCz+iTKE+R6kJvhFrlb7rQWM/mowYP5o7Kb/PahY/9mXFvvtjJT9W30U/Qp3mPYXv3T41FMw+iAd5vy/Xez+Q0xw/Pq03P5D/X7/H0+s8YepOPQJRZj+wdVS/GINyP6LCw7zAVY4+jgJovxEiQr8kBhK/LcxTv+bmWb+nhaw+PDmGvhgcHj8E+Mg+olTiPidBVD+BCwAAAAAAAB4ItvCXdmw8";
}
