// Feeding the embedding sample's model.mlpackage on iOS (Core ML) as edgeq calibrated it:
// the model's tokenizer.json (WordPiece; e.g. swift-transformers' tokenizer), [CLS] ...
// [SEP] padded to 64: "input_ids" / "attention_mask" int32 [1, 64] (Core ML takes int32);
// "sentence_embedding" [1, 384], unit length. Documented, not compiled here.
import CoreML

final class SentenceEncoder {
    private let model: MLModel
    private let tokenize: (String) -> [Int32]

    init(model: MLModel, tokenize: @escaping (String) -> [Int32]) {
        self.model = model
        self.tokenize = tokenize
    }

    func embed(_ sentence: String) throws -> [Float] {
        let tokens = Array(tokenize(sentence).prefix(64))
        let ids = try MLMultiArray(shape: [1, 64], dataType: .int32)
        let mask = try MLMultiArray(shape: [1, 64], dataType: .int32)
        for i in 0..<64 {
            ids[i] = NSNumber(value: i < tokens.count ? tokens[i] : 0)
            mask[i] = NSNumber(value: i < tokens.count ? 1 : 0)
        }
        let out = try model.prediction(from: MLDictionaryFeatureProvider(
            dictionary: ["input_ids": ids, "attention_mask": mask]))
        let e = out.featureValue(for: "sentence_embedding")!.multiArrayValue!
        return (0..<384).map { e[$0].floatValue }
    }
}
