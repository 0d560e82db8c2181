"""Google Drive: sign-in through the browser, verified resumable uploads, listing, permanent deletes, free
space, verified downloads. The scope is drive.file: Respaldos sees only the files it created.

pydrive2 (Drive API v2) holds the credentials, builds the authorised http objects and the service, lists,
deletes for good and reads the quota; uploads and downloads use googleapiclient's resumable media objects on
that service, so that one loop here decides about retries and cancel. One module per job:

    provider.py     GoogleDriveProvider: the CloudProvider interface, wired to the modules below
    settings.py     the vendor's OAuth client file, the API endpoint, scope, chunk size, timeouts, attempts
    credentials.py  the credentials in the OS keyring (pydrive2's dictionary backend); GoogleAuth adjusted
    signin.py       the browser (loopback) or pasted-address sign-in, the code exchange, revoking on sign-out
    connection.py   DriveConnection: the signed-in client, http objects, each call retried (errors.py decides)
    errors.py       what a failed request means: retry after a pause, or the sentence the user reads
    account.py      the account's name and free space
    folders.py      the backup folder's id (remembered, found or created), its files, listing, deletes
    upload.py       md5 of a local file, resumable upload sessions with checkpoints, verified by md5Checksum
    download.py     ranged downloads hashed as they arrive, verified by md5Checksum

Google's libraries are imported inside the functions that use them: importing this package stays cheap for
the command line. The design and its reasons are in docs/cloud-google.md.
"""

import logging

from wizard.core.cloud.google.provider import GoogleDriveProvider

# oauth2client logs every refresh at INFO, googleapiclient every URL at DEBUG: our own lines say what matters.
for _name in ("oauth2client", "googleapiclient"):
    logging.getLogger(_name).setLevel(logging.WARNING)

__all__ = ["GoogleDriveProvider"]
