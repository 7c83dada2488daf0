namespace DeepRetrieval.Torch.Data;

// A preprocessed image as plain floats, so decoding threads never touch TorchSharp and its dispose scopes.
internal readonly record struct DecodedImage(float[] Pixels, int Channels, int Height, int Width);
