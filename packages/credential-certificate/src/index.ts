export {
  certificateCredential,
  type CertificateCredential,
  type CertificateCredentialOptions,
  type CertificateInfo,
  type CertificateSigner,
  type CertificateThumbprints,
  type SigningAlgorithm,
  type ThumbprintHeader,
} from "./certificate-credential.js";
