/** A folder listing from the gateway, its failures as ApiErrors the panel can word. */
import { ApiError, getJson, type GetJsonOptions } from '../lib/api.js';
import { parseListing, type FileListing } from './listing.js';

const NOT_A_LISTING = 'The gateway answered with something that is not a folder listing.';

export async function fetchListing(url: string, options: GetJsonOptions): Promise<FileListing> {
  let body: unknown;
  try {
    body = await getJson<unknown>(url, options);
  } catch (error) {
    if (error instanceof ApiError) throw error;
    // fetch rejects with a TypeError when the network fails; anything else is an answer that is not JSON.
    if (error instanceof TypeError) throw new ApiError(0, 'network', 'Could not reach the gateway. Check your network connection.');
    throw new ApiError(200, 'bad_response', NOT_A_LISTING);
  }
  const listing = parseListing(body);
  if (!listing) throw new ApiError(200, 'bad_response', NOT_A_LISTING);
  return listing;
}
