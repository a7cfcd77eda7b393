/**
 * gRPC errors of the Gateway service as a Fabric gateway returns them: a status code, a message, and
 * in the `grpc-status-details-bin` trailer a `google.rpc.Status` whose details are `gateway.ErrorDetail`
 * (address, MSP id and message of each endorser or orderer that failed). The fabric-gateway clients
 * read these details into `GatewayError.details` (and `EndorseError`, `SubmitError`, `CommitStatusError`).
 */
import { Metadata, status as GrpcStatus, type ServiceError } from '@grpc/grpc-js';
import { gateway, google } from '@hyperledger/fabric-protos';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { Any } = require('google-protobuf/google/protobuf/any_pb.js') as {
  Any: new () => { setTypeUrl(url: string): void; setValue(value: Uint8Array): void };
};

export const ERROR_DETAIL_TYPE_URL = 'type.googleapis.com/gateway.ErrorDetail';

export interface EndpointError {
  readonly address: string;
  readonly mspId: string;
  readonly message: string;
}

/** The gRPC status codes the service uses. */
export const GATEWAY_STATUS = {
  INVALID_ARGUMENT: GrpcStatus.INVALID_ARGUMENT,
  NOT_FOUND: GrpcStatus.NOT_FOUND,
  PERMISSION_DENIED: GrpcStatus.PERMISSION_DENIED,
  ABORTED: GrpcStatus.ABORTED,
  UNKNOWN: GrpcStatus.UNKNOWN,
  DEADLINE_EXCEEDED: GrpcStatus.DEADLINE_EXCEEDED,
  UNAVAILABLE: GrpcStatus.UNAVAILABLE,
  FAILED_PRECONDITION: GrpcStatus.FAILED_PRECONDITION,
  UNIMPLEMENTED: GrpcStatus.UNIMPLEMENTED,
} as const;

/** A Fabric chaincode's failure as the gateway words it in an ErrorDetail: `chaincode response 500, <message>`. */
export function chaincodeResponseMessage(status: number, message: string): string {
  return `chaincode response ${status}, ${message}`;
}

/** The ServiceError a handler passes to its callback (or emits on a stream). */
export function gatewayError(code: number, message: string, details: readonly EndpointError[] = []): ServiceError {
  const metadata = new Metadata();
  const rpcStatus = new google.rpc.Status();
  rpcStatus.setCode(code);
  rpcStatus.setMessage(message);
  rpcStatus.setDetailsList(
    details.map((d) => {
      const detail = new gateway.ErrorDetail();
      detail.setAddress(d.address);
      detail.setMspId(d.mspId);
      detail.setMessage(d.message);
      const any = new Any();
      any.setTypeUrl(ERROR_DETAIL_TYPE_URL);
      any.setValue(detail.serializeBinary());
      return any as never;
    }),
  );
  metadata.set('grpc-status-details-bin', Buffer.from(rpcStatus.serializeBinary()));
  return Object.assign(new Error(message), { code, details: message, metadata });
}
